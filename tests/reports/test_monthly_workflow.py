"""The report's life: drafted by itself on the first working day after the month, reviewed by the
office with remarks, signed by the principal, submitted, sent back by the bureau; each step once,
by the right person, with its audit row."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from baoxue.audit.models import AuditEntry
from baoxue.calendar.workdays import CalendarMissing
from baoxue.cases.models import Stage
from baoxue.reports.models import MonthlyReport
from baoxue.reports.monthly import draft_due, first_working_day_after
from baoxue.reports.services import (
    report_draft, report_refresh, report_return, report_review, report_sign, report_submit,
)
from tests.reports.report_helpers import APRIL, add_case, pupil

D = datetime.date


def audit_rows(report):
    return list(AuditEntry.objects.filter(object_type="monthlyreport", object_id=str(report.pk)).order_by("id"))


def test_drafted_on_the_first_working_day_after_the_month(school, other_school, april):
    # 2026: May 1–5 is the 劳动节 holiday, so April's report is drafted on Wednesday May 6.
    assert first_working_day_after(APRIL) == D(2026, 5, 6)
    assert draft_due(D(2026, 5, 5)) == 0
    assert not MonthlyReport.objects.exists()
    assert draft_due(D(2026, 5, 6)) == 2
    report = MonthlyReport.objects.get(school=school)
    assert report.month == APRIL and report.state == MonthlyReport.State.DRAFT and report.county_id == school.county_id
    assert report.figures["new_suspected"] == 2 and report.figures["enrolled"] == 12
    assert report.figures_at is not None
    (entry,) = audit_rows(report)
    assert entry.action == "create" and entry.actor is None and "系统" in entry.actor_label
    assert entry.school_id == school.pk
    # Idempotent: a second run, the next day, drafts nothing more.
    assert draft_due(D(2026, 5, 6)) == 0
    assert draft_due(D(2026, 5, 7)) == 0
    assert MonthlyReport.objects.count() == 2


def test_a_missed_drafting_day_is_caught_up_later(school, april):
    assert draft_due(D(2026, 5, 20)) == 1
    assert MonthlyReport.objects.get().month == APRIL


def test_drafting_needs_the_calendar(school):
    with pytest.raises(CalendarMissing, match="2027"):
        draft_due(D(2027, 1, 4))


def test_a_month_not_yet_over_has_no_report(school, people, on_day):
    on_day(D(2026, 4, 30))
    with pytest.raises(ValidationError, match="尚未结束"):
        report_draft(actor=people["users"]["office"], school=school, month=APRIL)
    on_day(D(2026, 5, 1))
    report, created = report_draft(actor=people["users"]["office"], school=school, month=APRIL)
    assert created
    assert report_draft(actor=people["users"]["office"], school=school, month=APRIL) == (report, False)


def test_review_sign_submit_and_return(school, april, people, on_day):
    on_day(D(2026, 5, 8))
    u = people["users"]
    report, _ = report_draft(actor=u["office"], school=school, month=APRIL)
    with pytest.raises(ValidationError, match="须先经办公室审核"):
        report_sign(actor=u["leader"], report=report)
    with pytest.raises(ValidationError, match="只有学校控辍保学办公室可以审核"):
        report_review(actor=u["leader"], report=report, remarks="")
    report_review(actor=u["office"], report=report, remarks="本月劝返复学2人，1人仍在劝返。")
    with pytest.raises(ValidationError, match="只有校长（学校领导）可以签字"):
        report_sign(actor=u["office"], report=report)
    report_sign(actor=u["leader"], report=report)
    with pytest.raises(ValidationError, match="数据已固定"):
        report_refresh(actor=u["office"], report=report)
    with pytest.raises(ValidationError, match="只有已提交的报告可以退回"):
        report_return(actor=u["county"], report=report, reason="数据不符")
    with pytest.raises(ValidationError, match="只有学校控辍保学办公室或校长可以提交"):
        report_submit(actor=u["registrar"], report=report)
    report_submit(actor=u["office"], report=report)
    report.refresh_from_db()
    assert report.state == "submitted" and report.submitted_by == u["office"] and report.signed_by == u["leader"]
    assert report.reviewed_by == u["office"] and report.remarks == "本月劝返复学2人，1人仍在劝返。"

    with pytest.raises(ValidationError, match="只有县教体局可以退回"):
        report_return(actor=u["office"], report=report, reason="自己退回")
    with pytest.raises(ValidationError) as e:
        report_return(actor=u["county"], report=report, reason="  ")
    assert "请填写退回原因" in str(e.value)
    pk = report.pk
    report_return(actor=u["county"], report=report, reason="新增辍学人数与台账不一致，请核对")
    report.refresh_from_db()
    assert report.pk == pk and report.state == "draft"
    assert report.returned_reason == "新增辍学人数与台账不一致，请核对" and report.returned_by == u["county"]
    assert report.signed_by is None and report.submitted_at is None and report.reviewed_at is None
    assert report.remarks  # kept for the office to edit
    assert [(a.actor, a.action) for a in audit_rows(report)] == [
        (u["office"], "create"), (u["office"], "update"), (u["leader"], "update"), (u["office"], "update"),
        (u["county"], "update")]
    assert "教体局退回" in audit_rows(report)[-1].note
    # Once returned, the same row goes round again.
    report_review(actor=u["office"], report=report, remarks="已核对")
    report_sign(actor=u["leader"], report=report)
    report_submit(actor=u["leader"], report=report)
    assert MonthlyReport.objects.get(pk=pk).state == "submitted"


def test_a_school_role_of_another_school_takes_no_step(school, other_school, april, people):
    from baoxue.org.models import Membership, Role
    from tests.conftest import make_user

    stranger = make_user("other_office")
    Membership.objects.create(user=stranger, role=Role.OFFICE, school=other_school, county=other_school.county)
    report, _ = report_draft(actor=None, school=school, month=APRIL)
    with pytest.raises(ValidationError):
        report_review(actor=stranger, report=report, remarks="")
    with pytest.raises(ValidationError):
        report_draft(actor=stranger, school=school, month=D(2026, 3, 1))


def test_figures_are_refreshed_until_signing_and_frozen_then(school, april, people, rules):
    u = people["users"]
    report, _ = report_draft(actor=None, school=school, month=APRIL)
    assert report_refresh(actor=u["office"], report=report) is False  # nothing changed
    report_review(actor=u["office"], report=report, remarks="")
    # A late correction: another April suspected dropout, recorded after the review.
    late = pupil(school, people["c71"], "晚录", 700)
    add_case(late, rules, D(2026, 4, 13), stage=Stage.SUSPECTED_DROPOUT, suspected_on=D(2026, 4, 20))
    with pytest.raises(ValidationError, match="审核后数据已有变化（.*新增疑似辍学 2 → 3"):
        report_sign(actor=u["leader"], report=report)
    assert report_refresh(actor=u["office"], report=report) is True
    report.refresh_from_db()
    assert report.figures["new_suspected"] == 3
    assert report.state == "draft" and report.reviewed_by is None  # reviewed again before signing
    assert "新增疑似辍学 2 → 3" in audit_rows(report)[-1].note
    report_review(actor=u["office"], report=report, remarks="补录1人")
    report_sign(actor=u["leader"], report=report)
    frozen = MonthlyReport.objects.get(pk=report.pk).figures
    add_case(pupil(school, people["c71"], "再晚录", 701), rules, D(2026, 4, 14), stage=Stage.SUSPECTED_DROPOUT,
             suspected_on=D(2026, 4, 21))
    with pytest.raises(ValidationError):
        report_refresh(actor=u["office"], report=report)
    assert MonthlyReport.objects.get(pk=report.pk).figures == frozen
