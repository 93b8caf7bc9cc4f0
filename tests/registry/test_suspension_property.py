"""No suspension ends unnoticed, whatever days the daily job happens to run.

Over generated histories on the real calendar (a suspension approved and done in 国网 on some
day, perhaps extended, perhaps resumed; the daily job run on any subset of days, the server down
on the others), the end state is the one a single run on the last day gives, and:

- every 休学 学籍异动 comes from an application;
- a student is 休学 exactly while the application is in effect;
- past the end without 复学 the student is back 在校 from the first school day after the end.
"""

import datetime as dt
import os

from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from baoxue.org.models import RegistryStatus, Student, Term
from baoxue.registry import suspensions
from baoxue.registry.models import Application, ChangeType, RegistryChange
from tests.conftest import make_student

EXAMPLES = max(20, int(os.environ.get("BAOXUE_PROPERTY_EXAMPLES", "500")) // 5)
FIRST, LAST = dt.date(2025, 9, 1), dt.date(2026, 11, 30)
SPAN = (LAST - FIRST).days


def _approved(student, start: dt.date, clerk) -> Application:
    app = Application.objects.create(
        county=student.county, school=student.school, student=student, state="approved", illness="白血病",
        start_on=start, ends_on=suspensions.suspension_end(start, 12), submitted_on=start, decided_on=start,
        decided_by=clerk, national_form_on=start, national_proof_on=start, national_reason_on=start)
    return app


def _snapshot(student_pk: int) -> tuple:
    s = Student.objects.get(pk=student_pk)
    apps = tuple(Application.objects.filter(student_id=student_pk).order_by("id").values_list("state", "ends_on"))
    changes = tuple(RegistryChange.objects.filter(student_id=student_pk).order_by("id")
                    .values_list("change_type", "date"))
    return s.status, s.status_since, apps, changes


history = st.fixed_dictionaries({
    "start": st.integers(0, SPAN - 200),
    # Days (offsets from the start) on which the daily job runs; the last day always runs.
    "runs": st.lists(st.integers(0, SPAN), max_size=12),
    "resume_after": st.one_of(st.none(), st.integers(1, 500)),
})


@settings(max_examples=EXAMPLES, deadline=None, derandomize=bool(os.environ.get("CI")), database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(h=history)
def test_daily_runs_on_any_days_give_what_one_run_gives(db, school, people, h):
    Term.objects.get_or_create(school=school, name="2026-2027-1", start=dt.date(2026, 9, 1),
                               end=dt.date(2026, 12, 31))
    Term.objects.get_or_create(school=school, name="2025-2026-2", start=dt.date(2026, 3, 2),
                               end=dt.date(2026, 7, 10))
    clerk = people["users"]["registrar"]
    start = FIRST + dt.timedelta(days=h["start"])
    results = []
    for runs in (sorted(set(h["runs"])), []):
        sid = transaction.savepoint()
        try:
            results.append(_history(school, people, clerk, start, runs, h["resume_after"]))
        finally:
            transaction.savepoint_rollback(sid)
    (with_runs, days), (once, _) = results
    if not (h["resume_after"] and start + dt.timedelta(days=h["resume_after"]) <= LAST):
        # Without a 复学 in between, when the job ran does not matter.
        assert with_runs == once


def _history(school, people, clerk, start, runs, resume_after):
    kid = make_student(school, people["c71"], "王五", 7)
    app = _approved(kid, start, clerk)
    resume_on = start + dt.timedelta(days=resume_after) if resume_after else None
    days = sorted({FIRST + dt.timedelta(days=d) for d in runs if FIRST + dt.timedelta(days=d) >= start}
                  | {start} | ({resume_on} if resume_on and resume_on <= LAST else set()))
    for day in days:
        if resume_on == day:
            app.refresh_from_db()
            if app.state in suspensions.HOLDING:
                _resume(app, day, people, clerk)
        suspensions.suspensions_daily(day)
    suspensions.suspensions_daily(LAST)
    _check_invariants(kid.pk)
    return _snapshot(kid.pk), days


def _resume(app, day, people, clerk):
    """复学 on `day` with the papers (a resumption can only be recorded on or after the return)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from django.utils import timezone

    for m in suspensions.RESUME_MATERIALS:
        suspensions.application_file_add(actor=clerk, app=app, material=m,
                                         upload=SimpleUploadedFile("a.pdf", b"%PDF-1.4 x"))
    if day > timezone.localdate() or (app.state == "expired" and day < app.end_change.date):
        return
    app.refresh_from_db()
    suspensions.resumption_record(actor=clerk, app=app, on=day, school_class=people["c72"])


def _check_invariants(student_pk: int) -> None:
    student = Student.objects.get(pk=student_pk)
    app = Application.objects.get(student_id=student_pk)
    # Every 休学 学籍异动 comes from the application.
    for change in RegistryChange.objects.filter(student_id=student_pk, change_type=ChangeType.SUSPEND):
        assert app.change_id == change.pk
    # 休学 exactly while the application is in effect.
    assert (student.status == RegistryStatus.SUSPENDED) == (app.state == "effective")
    if app.state == "expired":
        # Back from the first school day after the end (or the next working day outside a term).
        assert student.status == RegistryStatus.IN_SCHOOL
        assert student.status_since == app.end_change.date > app.ends_on
        assert app.end_change.change_type == ChangeType.EXPIRE
    if app.ends_on < LAST and app.state == "effective":
        raise AssertionError("a suspension past its end is still in effect: it ended unnoticed")
