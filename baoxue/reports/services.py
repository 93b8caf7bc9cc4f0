"""The steps of a monthly report and the hand-entered inputs of 巩固率, one service each.

Each takes keyword arguments, checks who may take the step (`baoxue.reports.access`), and writes
its audit row in the same transaction. A step that cannot be taken is a ValidationError in Chinese.

draft → (review by the office, with remarks) → reviewed → (the principal signs) → signed →
(submitted by the office or the principal) → submitted; the bureau may send a submitted report
back (→ draft, same row, with its reason). The figures are refreshed until signing and frozen then.
"""

import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from baoxue.audit.models import Action
from baoxue.audit.services import audit_record
from baoxue.org.models import School
from baoxue.reports import monthly
from baoxue.reports.access import allowed_actions, can_edit_retention
from baoxue.reports.models import RETENTION_FIELDS, MonthlyReport, RetentionInputs

S = MonthlyReport.State
STEP_NAMES = {"draft": "生成", "refresh": "更新数据", "review": "审核", "sign": "签字", "submit": "提交",
              "return": "退回"}
WHO_MAY = {
    "draft": "学校控辍保学办公室或学校领导",
    "refresh": "学校控辍保学办公室或学校领导",
    "review": "学校控辍保学办公室",
    "sign": "校长（学校领导）",
    "submit": "学校控辍保学办公室或校长",
    "return": "县教体局",
}
NEEDS_STATE = {
    "refresh": "校长签字后数据已固定，不能再更新",
    "review": "只有草稿或已审核的报告可以审核",
    "sign": "报告须先经办公室审核，才能由校长签字",
    "submit": "报告须先由校长签字，才能提交",
    "return": "只有已提交的报告可以退回",
}
STATES_FOR = {"refresh": (S.DRAFT, S.REVIEWED), "review": (S.DRAFT, S.REVIEWED), "sign": (S.REVIEWED,),
              "submit": (S.SIGNED,), "return": (S.SUBMITTED,)}


def _check(actor, report: MonthlyReport, step: str) -> None:
    if report.state not in STATES_FOR[step]:
        raise ValidationError(f"{NEEDS_STATE[step]}（现在：{report.get_state_display()}）")
    if actor is None and step == "refresh":
        return
    if actor is None or step not in allowed_actions(actor, report, report.school):
        raise ValidationError(f"只有{WHO_MAY[step]}可以{STEP_NAMES[step]}报告")


def _locked(report: MonthlyReport) -> MonthlyReport:
    return MonthlyReport.objects.select_for_update().select_related("school__county").get(pk=report.pk)


def _who(actor) -> str:
    return (actor.get_full_name() or actor.get_username()) if actor is not None else "系统"


@transaction.atomic
def report_draft(*, actor, school: School, month: datetime.date,
                 today: datetime.date | None = None) -> tuple[MonthlyReport, bool]:
    """The month's report of `school`, drafted now with its figures if it has none (as
    get_or_create: (report, created)). Only a finished month has a report."""
    today = today or timezone.localdate()
    if month.day != 1:
        raise ValidationError("月份须为该月1日")
    if not monthly.is_finished(month, today):
        raise ValidationError(f"{monthly.month_label(month)}尚未结束：月报告在下月第一个工作日生成")
    if actor is not None and "draft" not in allowed_actions(actor, None, school):
        raise ValidationError(f"只有{WHO_MAY['draft']}可以生成报告")
    existing = MonthlyReport.objects.filter(school=school, month=month).first()
    if existing is not None:
        return existing, False
    figures = monthly.monthly_figures(school, month)
    try:
        with transaction.atomic():
            report = MonthlyReport.objects.create(county_id=school.county_id, school=school, month=month,
                                                  figures=figures, figures_at=timezone.now())
    except IntegrityError:  # drafted at the same moment by another process
        return MonthlyReport.objects.get(school=school, month=month), False
    audit_record(actor=actor, action=Action.CREATE, obj=report, actor_label="" if actor else "系统（月报告自动生成）",
                 changes={"state": [None, report.get_state_display()],
                          **{k: [None, figures[k]] for k, _ in monthly.NUMBERS}})
    return report, True


@transaction.atomic
def report_refresh(*, actor, report: MonthlyReport) -> bool:
    """Take the figures again (until signing). A report already reviewed whose figures changed
    goes back to draft: the office reviews what the principal will sign. Returns whether the
    figures changed."""
    report = _locked(report)
    _check(actor, report, "refresh")
    figures = monthly.monthly_figures(report.school, report.month)
    if figures == report.figures:
        return False
    changes = monthly.figure_changes(report.figures, figures)
    old_state = report.state
    report.figures, report.figures_at = figures, timezone.now()
    fields = ["figures", "figures_at"]
    if report.state == S.REVIEWED:
        report.state, report.reviewed_by, report.reviewed_at = S.DRAFT, None, None
        fields += ["state", "reviewed_by", "reviewed_at"]
    report.save(update_fields=fields)
    audit_record(actor=actor, action=Action.UPDATE, obj=report,
                 changes={"state": [old_state, report.state]} if old_state != report.state else {},
                 note=("更新数据：" + "；".join(changes))[:300] if changes else "更新数据")
    return True


@transaction.atomic
def report_review(*, actor, report: MonthlyReport, remarks: str) -> MonthlyReport:
    """The office has checked the figures and writes its remarks (情况说明)."""
    report = _locked(report)
    _check(actor, report, "review")
    remarks = (remarks or "").strip()
    if len(remarks) > 2000:
        raise ValidationError({"remarks": "情况说明不能超过2000字"})
    before = {"state": report.state, "remarks": report.remarks}
    report.remarks = remarks
    report.state, report.reviewed_by, report.reviewed_at = S.REVIEWED, actor, timezone.now()
    report.save(update_fields=["remarks", "state", "reviewed_by", "reviewed_at"])
    audit_record(actor=actor, action=Action.UPDATE, obj=report, note="办公室审核",
                 changes={k: [before[k], getattr(report, k)] for k in before if before[k] != getattr(report, k)})
    return report


@transaction.atomic
def report_sign(*, actor, report: MonthlyReport) -> MonthlyReport:
    """The principal signs: the figures are frozen as reviewed. Figures that changed since the
    review are not signed unseen: the office updates and reviews them again first."""
    report = _locked(report)
    _check(actor, report, "sign")
    live = monthly.monthly_figures(report.school, report.month)
    if live != report.figures:
        changes = monthly.figure_changes(report.figures, live)
        raise ValidationError("审核后数据已有变化（" + "；".join(changes or ["名单有变化"])
                              + "）：请办公室先更新数据并重新审核，再签字")
    report.state, report.signed_by, report.signed_at = S.SIGNED, actor, timezone.now()
    report.save(update_fields=["state", "signed_by", "signed_at"])
    audit_record(actor=actor, action=Action.UPDATE, obj=report, note="校长签字，数据已固定",
                 changes={"state": [S.REVIEWED, S.SIGNED]})
    return report


@transaction.atomic
def report_submit(*, actor, report: MonthlyReport) -> MonthlyReport:
    report = _locked(report)
    _check(actor, report, "submit")
    report.state, report.submitted_by, report.submitted_at = S.SUBMITTED, actor, timezone.now()
    report.save(update_fields=["state", "submitted_by", "submitted_at"])
    audit_record(actor=actor, action=Action.UPDATE, obj=report, note="提交教体局",
                 changes={"state": [S.SIGNED, S.SUBMITTED]})
    return report


@transaction.atomic
def report_return(*, actor, report: MonthlyReport, reason: str) -> MonthlyReport:
    """The bureau sends a submitted report back with its reason: the same row, back to draft,
    its review, signature and submission cleared (kept in the audit trail)."""
    report = _locked(report)
    _check(actor, report, "return")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "请填写退回原因"})
    before = {"reviewed_by": report.reviewed_by, "signed_by": report.signed_by, "submitted_by": report.submitted_by}
    report.state = S.DRAFT
    report.reviewed_by = report.signed_by = report.submitted_by = None
    report.reviewed_at = report.signed_at = report.submitted_at = None
    report.returned_by, report.returned_at, report.returned_reason = actor, timezone.now(), reason[:300]
    report.save()
    audit_record(actor=actor, action=Action.UPDATE, obj=report, note=f"教体局退回：{reason}",
                 changes={"state": [S.SUBMITTED, S.DRAFT], **{k: [v, None] for k, v in before.items() if v}})
    return report


# ---------------------------------------------------------------- 巩固率 inputs

@transaction.atomic
def retention_inputs_set(*, actor, school: School, year: int, values: dict, note: str | None = None) -> RetentionInputs:
    """Enter (or clear, with None) hand values of the 巩固率 inputs of `school` for the graduation
    `year`. A hand value overrides the system's; each records who entered it and when."""
    if actor is None or not can_edit_retention(actor, school):
        raise ValidationError("只有学校控辍保学办公室、学籍管理员或学校领导可以填写巩固率数据")
    if not 2000 <= int(year) <= timezone.localdate().year + 1:
        raise ValidationError({"year": f"毕业年份“{year}”不在合理范围内"})
    unknown = set(values) - set(RETENTION_FIELDS)
    if unknown:
        raise ValidationError(f"没有这些数据项：{'、'.join(sorted(unknown))}")
    errors = {}
    for key, value in values.items():
        if value is not None and (not isinstance(value, int) or value < 0):
            errors[key] = "请填写不小于0的整数"
    if errors:
        raise ValidationError(errors)
    row, created = RetentionInputs.objects.select_for_update().get_or_create(
        school=school, year=year, defaults={"county_id": school.county_id})
    changes = {}
    now = timezone.now().isoformat(timespec="seconds")
    entered = dict(row.entered)
    for key, value in values.items():
        old = getattr(row, key)
        if old == value:
            continue
        changes[key] = [old, value]
        setattr(row, key, value)
        if value is None:
            entered.pop(key, None)
        else:
            entered[key] = {"by": _who(actor), "by_id": actor.pk, "at": now}
    if note is not None and note.strip() != row.note:
        changes["note"] = [row.note, note.strip()[:300]]
        row.note = note.strip()[:300]
    if not changes and not created:
        return row
    row.entered = entered
    row.save()
    audit_record(actor=actor, action=Action.CREATE if created else Action.UPDATE, obj=row, changes=changes,
                 note=f"{year}届巩固率数据手工填写")
    return row
