"""返校后观察 in the mentor's work: check-ins due 2, 4 and 8 weeks after a suspected-dropout case
closed with a return; each care record after the return counts as one."""

import datetime as dt

from baoxue.calendar import workdays
from baoxue.care.due import OBSERVATION, due_report
from baoxue.care.services import care_record_add
from baoxue.cases.models import Case
from baoxue.org.models import Student
from tests.cases.conftest import Diary

D = dt.date


def test_check_ins_follow_a_return_and_records_move_them_on(people, students, school, term):
    zs = students["zhangsan"]
    diary = Diary(people["c71"], people["users"]["t71"])
    days = workdays.school_days(school, D(2025, 9, 15), D(2025, 10, 31))
    for day in days[:5]:
        diary.day(day, absent=[zs])
    diary.day(days[5])
    returned = Case.objects.get(student=zs).closed_on
    today = returned + dt.timedelta(days=20)
    items = [i for i in due_report(Student.objects.filter(pk=zs.pk), today).items if i.group == OBSERVATION]
    assert len(items) == 1 and "第2周" in items[0].rule
    assert items[0].due_on == workdays.on_or_next_working_day(returned + dt.timedelta(weeks=2)) and items[0].overdue
    assert items[0].teacher == people["users"]["t71"]
    care_record_add(actor=people["users"]["t71"], student=zs, date=returned + dt.timedelta(days=15), form="talk",
                    content="谈心：适应情况良好", next_step="两周后再谈")
    (item,) = [i for i in due_report(Student.objects.filter(pk=zs.pk), today).items if i.group == OBSERVATION]
    assert "第4周" in item.rule and not item.overdue
