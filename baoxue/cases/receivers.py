"""The receivers of the signals of the apps below (attendance, calendar): each hands over to
the public service or read that does the work."""

from baoxue.cases import replay, selectors
from baoxue.cases.models import Case


def on_attendance_changed(sender, *, school, since, student_ids, class_ids, **kwargs) -> None:
    replay.attendance_changed(school=school, since=since, student_ids=student_ids, class_ids=class_ids)


def on_calendar_changed(sender, *, schools, since, **kwargs) -> None:
    replay.calendar_changed(schools=schools, since=since)


def on_calendar_warnings(sender, *, today, **kwargs) -> list[str]:
    waiting = Case.objects.filter(is_open=True, suspected_on__isnull=False, persuasion_due__isnull=True).count()
    if not waiting:
        return []
    return [f"有 {waiting} 个疑似辍学个案因工作日历缺失，劝返截止日尚未算出；录入日历后每日任务会自动补上。"]


def on_absence_advice(sender, *, school_class, day, today, student_ids, **kwargs) -> dict[int, dict]:
    return selectors.absence_advice(school_class=school_class, day=day, today=today, student_ids=student_ids)


def on_open_case_asked(sender, *, student, **kwargs):
    return Case.objects.filter(student=student, is_open=True).first()
