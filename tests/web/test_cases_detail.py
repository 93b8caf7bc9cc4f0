"""One case: who may open it, the 13510 steps on it, persuaders and attempts N/3, the flags,
and the office's 失踪失联 / 复学 / 销账."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from baoxue.audit.models import AuditEntry
from baoxue.cases.models import Case, Persuader, PersuasionAttempt, Task
from baoxue.cases.selectors import case_flags, case_json, persuasion_clock
from baoxue.cases.services import attempt_add
from tests.web.test_cases_helpers import FIRST_WEEK, absent, dropout, suspected  # noqa: F401 (fixtures)

D = dt.date


def url(case, name="case_detail"):
    return reverse(name, args=[case.pk])


def attempt(n, method="home_visit", **extra):
    return {"date": f"2025-09-{8 + n:02d}", "method": method, "p1_name": "钱主任", "p1_unit": "学校",
            "p2_name": "李老师", "p2_unit": "学校", "result": f"第{n}次：家长答应考虑", **extra}


@pytest.mark.parametrize("role", ["head_teacher_1", "office", "leader", "registrar", "county_official", "admin",
                                  "township_official"])
def test_it_renders_for_those_who_see_the_student(login, org, role):
    # 张三 lives in 城关镇; the fixture's township official is of 留固镇, so move him there.
    org.student_1.residence_township = org.liugu
    org.student_1.save()
    case = absent(org.school, org.student_1, FIRST_WEEK)
    r = login(getattr(org, role)).get(url(case))
    assert r.status_code == 200
    html = r.content.decode()
    assert "张三" in html and "第5天 疑似辍学" in html


@pytest.mark.parametrize("role", ["outsider", "head_teacher_2", "mentor", "township_official"])
def test_it_is_not_found_outside_scope(login, org, suspected, role):
    client = login(getattr(org, role))
    assert client.get(url(suspected)).status_code == 404
    assert client.post(url(suspected, "case_attempt_add"), attempt(1)).status_code == 404
    assert not PersuasionAttempt.objects.exists()


def test_it_shows_identity_masked_guardians_tasks_and_the_run(login, org, suspected):
    html = login(org.head_teacher_1).get(url(suspected)).content.decode()
    assert org.student_1.id_number not in html
    assert org.student_1.id_number[:2] + "*" * 14 + org.student_1.id_number[-2:] in html
    assert "第3天：家访或与监护人联系跟进，截止 2025年9月4日" in html
    assert "2025年9月1日（周一）" in html and "5 个在校日" in html
    assert "0/3" in html and "2025年9月19日" in html  # attempts N/3 and the deadline


def test_overdue_and_short_flags_after_the_deadline(login, org, suspected):
    html = login(org.office).get(url(suspected)).content.decode()
    assert "逾期" in html and "劝返不足" in html


def test_short_means_three_working_days_or_fewer_with_too_few_attempts(org, suspected):
    # The deadline is Friday 19 September 2025.
    assert persuasion_clock(suspected, today=D(2025, 9, 15), attempts=1).short is False  # 4 working days left
    clock = persuasion_clock(suspected, today=D(2025, 9, 16), attempts=2)
    assert (clock.days_left, clock.short, clock.overdue) == (3, True, False)
    assert persuasion_clock(suspected, today=D(2025, 9, 16), attempts=3).short is False
    assert persuasion_clock(suspected, today=D(2025, 9, 22), attempts=3).overdue is True


def test_a_missing_calendar_is_a_warning_not_a_guess(login, org, suspected):
    Case.objects.filter(pk=suspected.pk).update(persuasion_due=D(2030, 1, 10))
    html = login(org.office).get(url(suspected)).content.decode()
    assert "工作日历缺失" in html and "还剩" not in html


def test_an_unknown_deadline_is_flagged(login, org, suspected):
    Case.objects.filter(pk=suspected.pk).update(persuasion_due=None)
    suspected.refresh_from_db()
    html = login(org.office).get(url(suspected)).content.decode()
    assert "劝返截止日无法计算（工作日历缺失）" in html
    assert case_flags(suspected, today=D(2025, 9, 22)) == ["due_unknown"]


def _attempts(case, *days):
    for day in days:
        attempt_add(actor=None, case=case, date=day, method="home_visit",
                    participants=[{"name": "钱主任", "unit": "学校"}], result="家长答应考虑")


def test_an_attempt_after_the_deadline_is_kept_as_late_and_not_counted(login, org, suspected):
    # The deadline is Friday 19 September: the third attempt, on Monday 22, is late.
    _attempts(suspected, D(2025, 9, 10), D(2025, 9, 15), D(2025, 9, 22))
    html = login(org.office).get(url(suspected)).content.decode()
    assert "2/3" in html and "3/3" not in html and "共 3 条" in html
    assert "第3次</strong> · 2025年9月22日 · 家访 <span class=\"tag warn\">逾期记录</span>" in html
    assert "第2次</strong> · 2025年9月15日 · 家访</p>" in html  # in time: no mark
    assert "劝返记录晚于截止日" in html and "劝返不足" in html
    assert case_json(suspected)["attempts"] == 2
    assert case_flags(suspected, today=D(2025, 9, 22)) == ["late_attempts", "persuasion_short", "overdue"]
    assert persuasion_clock(suspected, today=D(2025, 9, 16), attempts=2).short is True


def test_persuasion_in_the_dropout_ledger_is_not_late(login, org, dropout):
    # 李四 entered the dropout ledger on 8 September (deadline 19 September): persuasion goes on.
    _attempts(dropout, D(2025, 9, 12), D(2025, 10, 9))
    html = login(org.office).get(url(dropout)).content.decode()
    assert "逾期记录" not in html and "劝返记录晚于截止日" not in html and "纳入辍学台账后的劝返" in html
    assert case_json(dropout)["attempts"] == 1
    assert "late_attempts" not in case_json(dropout)["flags"]


def test_the_head_teacher_records_a_contact_and_a_home_visit_with_a_photo(login, org, suspected, media):
    client = login(org.head_teacher_1)
    r = client.post(url(suspected, "case_contact_add"), {"at": "2025-09-01T09:10", "method": "phone",
                                                         "reached": "母亲", "reason_given": "不想上学"})
    assert r.status_code == 302
    photo = SimpleUploadedFile("家访.jpg", b"\xff\xd8\xff fake jpeg", content_type="image/jpeg")
    r = client.post(url(suspected, "case_visit_add"), {"date": "2025-09-04", "visitors": "李老师、钱主任", "met": "母亲",
                                                       "findings": "孩子沉迷手机", "attachment": photo})
    assert r.status_code == 302
    assert set(Task.objects.filter(case=suspected).values_list("done_on", flat=True)) == {D(2025, 9, 1), D(2025, 9, 4)}
    html = client.get(url(suspected)).content.decode()
    assert "联系到 母亲" in html and "孩子沉迷手机" in html and "已完成" in html
    visit = suspected.home_visits.get()
    file_url = reverse("case_attachment", args=[suspected.pk, "visit", visit.pk])
    assert client.get(file_url).status_code == 200
    assert login(org.head_teacher_2).get(file_url).status_code == 404


def test_a_visit_in_the_future_is_refused(login, org, suspected):
    r = login(org.head_teacher_1).post(url(suspected, "case_visit_add"),
                                       {"date": "2099-01-01", "visitors": "李老师", "met": "母亲", "findings": "—"})
    assert r.status_code == 200 and "日期不能晚于今天" in r.content.decode()


def test_the_office_assigns_persuaders_and_records_three_attempts(login, org, suspected):
    client = login(org.office)
    r = client.post(url(suspected, "case_persuader_add"), {"user": org.head_teacher_1.pk})
    assert r.status_code == 302
    r = client.post(url(suspected, "case_persuader_add"), {"name": "王支书", "unit": "村委会", "phone": "13700000000"})
    assert r.status_code == 302
    assert [str(p) for p in Persuader.objects.filter(case=suspected).order_by("id")] == ["李老师（学校）", "王支书（村委会）"]
    for n in (1, 2):
        assert client.post(url(suspected, "case_attempt_add"), attempt(n)).status_code == 302
    html = client.get(url(suspected)).content.decode()
    assert "2/3" in html and "劝返不足" in html
    joint = attempt(3, method="joint", p3_name="王支书", p3_unit="村委会")
    assert client.post(url(suspected, "case_attempt_add"), joint).status_code == 302
    html = client.get(url(suspected)).content.decode()
    assert "3/3" in html and "劝返不足" not in html
    assert "王支书（村委会）" in html and "第3次" in html
    assert AuditEntry.objects.filter(object_type="persuasionattempt").count() == 3


def test_a_joint_attempt_without_an_outside_participant_is_refused(login, org, suspected):
    r = login(org.office).post(url(suspected, "case_attempt_add"), attempt(1, method="joint"))
    assert r.status_code == 200
    assert "联合劝返须有学校以外的参与人员" in r.content.decode()
    assert not PersuasionAttempt.objects.exists()


def test_an_attempt_in_the_future_is_refused(login, org, suspected):
    r = login(org.office).post(url(suspected, "case_attempt_add"), attempt(1, date="2099-09-09"))
    assert "劝返日期不能晚于今天" in r.content.decode()


def test_a_named_persuader_may_record_attempts(login, org, suspected):
    from baoxue.cases.services import persuader_assign

    persuader_assign(actor=org.office, case=suspected, name="", user=org.mentor)  # a teacher of another class
    client = login(org.mentor)
    assert client.get(url(suspected)).status_code == 200
    assert client.post(url(suspected, "case_attempt_add"), attempt(1)).status_code == 302
    assert "张三" in client.get(reverse("cases_inbox")).content.decode()


def test_only_the_office_assigns_persuaders_and_closes(login, org, suspected):
    for role in ("head_teacher_1", "leader"):
        client = login(getattr(org, role))
        assert client.post(url(suspected, "case_persuader_add"), {"name": "王支书", "unit": "村委会"}).status_code == 404
        assert client.post(url(suspected, "case_mark_missing"), {"on": "2025-09-10", "note": "x"}).status_code == 404
        assert client.post(url(suspected, "case_close"), {"on": "2025-09-10", "outcome": "other",
                                                          "note": "x"}).status_code == 404
    assert not Persuader.objects.exists()
    html = login(org.head_teacher_1).get(url(suspected)).content.decode()
    assert "指派劝返责任人</summary>" not in html and "记录第1次劝返" in html


def test_missing_moves_to_the_dropout_ledger_then_resume(login, org, suspected):
    client = login(org.office)
    r = client.post(url(suspected, "case_mark_missing"), {"on": "2025-09-10", "note": "外出打工，联系不上"})
    assert r.status_code == 302
    suspected.refresh_from_db()
    assert (suspected.stage, suspected.dropout_cause, suspected.dropout_on) == ("dropout", "missing", D(2025, 9, 10))
    html = client.get(url(suspected)).content.decode()
    assert "一生一表（打印）" in html and "报告乡镇政府" in html and "办理复学" in html
    r = client.post(url(suspected, "case_resume"), {"on": "2025-10-09", "note": "劝返成功"})
    assert r.status_code == 302
    suspected.refresh_from_db()
    org.student_1.refresh_from_db()
    assert (suspected.is_open, suspected.outcome, suspected.closed_on) == (False, "resumed", D(2025, 10, 9))
    assert org.student_1.status == "in_school"
    html = client.get(url(suspected)).content.decode()
    assert "已销账" in html and "记录第" not in html  # closed: no more forms


def test_the_office_closes_with_another_outcome(login, org, suspected):
    r = login(org.office).post(url(suspected, "case_close"),
                               {"on": "2025-09-12", "outcome": "transferred", "note": "随父母转学至外省"})
    assert r.status_code == 302
    suspected.refresh_from_db()
    assert (suspected.is_open, suspected.outcome, suspected.close_note) == (False, "transferred", "随父母转学至外省")


def test_a_close_before_the_run_began_is_refused(login, org, suspected):
    r = login(org.office).post(url(suspected, "case_close"), {"on": "2025-08-01", "outcome": "other", "note": "x"})
    assert r.status_code == 200 and "日期不能早于首次缺勤日" in r.content.decode()
    suspected.refresh_from_db()
    assert suspected.is_open


def test_every_element_id_on_the_page_is_unique(login, org, suspected):
    import re
    from collections import Counter

    html = login(org.office).get(url(suspected)).content.decode()
    ids = Counter(re.findall(r'\sid="([^"]+)"', html))
    assert [i for i, n in ids.items() if n > 1] == []
    assert 'id="attempt_method_3"' in html and 'for="attempt_method_3"' in html
