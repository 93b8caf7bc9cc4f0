"""Every step of the exit condition and of the township's legal steps: one function each,
atomic, with its audit row.

- "经部门联合劝返3次以上": `joint_attempts` counts the case's 联合劝返 with a participant from
  outside the school; `exit_condition_file` refuses fewer than `MIN_JOINT_ATTEMPTS` with the count.
- "经法院判决监护人已履行法定义务": the judgment (court, date, case number, upload).
- "经县级人民政府（乡村振兴工作领导小组）审批": `exit_condition_approve`; the case stays open in
  the dropout ledger for follow-up (nothing here closes it).
- The four legal steps: `legal_step_record`.
"""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from baoxue.audit.models import Action
from baoxue.audit.services import audit_record
from baoxue.cases.models import Case, PersuasionAttempt, Stage
from baoxue.legal.models import ExitCondition, LegalPaper, LegalStep
from baoxue.lib.uploads import UploadRefused, check_paper

EC = ExitCondition
# 经部门联合劝返3次以上.
MIN_JOINT_ATTEMPTS = 3
# Units that are the school itself (as `baoxue.cases.services.attempt_add` reads a 联合劝返).
SCHOOL_UNITS = ("", "学校")


def _user(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


def is_outside_school(participant: dict, school_name: str) -> bool:
    return (participant.get("unit") or "").strip() not in SCHOOL_UNITS + (school_name,)


def joint_attempts(case: Case) -> int:
    """联合劝返 with at least one participant from outside the school (村委会, 派出所, 乡镇 …)."""
    rows = PersuasionAttempt.objects.filter(case=case, method=PersuasionAttempt.Method.JOINT)
    return sum(1 for a in rows.only("participants")
               if any(is_outside_school(p, case.school.name) for p in (a.participants or [])))


def _require_dropout(case: Case) -> None:
    if not case.is_open or case.stage != Stage.DROPOUT:
        raise ValidationError("只有辍学学生劝返台账中未销账的学生可以办理")


def _paper_add(*, actor, case: Case, kind: str, upload) -> LegalPaper:
    try:
        file_type = check_paper(upload, max_mb=settings.APPLICATION_FILE_MAX_MB)
    except UploadRefused as e:
        raise ValidationError({"upload": str(e)})
    now = timezone.now()
    paper = LegalPaper(case=case, county_id=case.county_id, school_id=case.school_id, kind=kind,
                       file_type=file_type, original_name=upload.name[-200:], size=upload.size,
                       uploaded_by=_user(actor))
    # The stored name says nothing about the child: the original name is kept in the row.
    paper.file.save(f"{case.pk}-{kind}-{now:%Y%m%d%H%M%S%f}.{file_type}", upload, save=False)
    paper.save()
    audit_record(actor=actor, action=Action.CREATE, obj=paper, scope_from=case.student,
                 object_repr=f"{case.student.name}：{paper.get_kind_display()}",
                 changes={"file": [None, paper.original_name]})
    return paper


def _locked_case(case: Case) -> Case:
    return Case.objects.select_for_update(of=("self",)).select_related("student", "school").get(pk=case.pk)


def _not_future(errors: dict, field: str, day, label: str) -> None:
    if day and day > timezone.localdate():
        errors[field] = f"{label}不能晚于今天"


@transaction.atomic
def exit_condition_file(*, actor, case: Case, ground: str, on: datetime.date | None = None, court: str = "",
                        judgment_on: datetime.date | None = None, judgment_no: str = "", upload=None,
                        note: str = "") -> ExitCondition:
    """The office files a dropout who still refuses: three joint persuasions or more, or a court
    judgment that the guardian has done their legal duty. A withdrawn or refused filing is filed
    again in place."""
    case = _locked_case(case)
    _require_dropout(case)
    on = on or timezone.localdate()
    existing = EC.objects.select_for_update().filter(case=case).first()
    if existing and existing.state in (EC.State.FILED, EC.State.APPROVED):
        raise ValidationError(f"该生已{existing.get_state_display()}（{existing.filed_on} 申报）")
    errors: dict = {}
    _not_future(errors, "on", on, "申报日期")
    n = joint_attempts(case)
    if ground == EC.Ground.JOINT:
        if n < MIN_JOINT_ATTEMPTS:
            raise ValidationError({"ground": f"联合劝返仅 {n} 次（须至少 {MIN_JOINT_ATTEMPTS} 次，每次有校外部门人员参加）"})
    elif ground == EC.Ground.JUDGMENT:
        if not court.strip():
            errors["court"] = "请填写作出判决的法院"
        if not judgment_no.strip():
            errors["judgment_no"] = "请填写判决书案号"
        if not judgment_on:
            errors["judgment_on"] = "请填写判决日期"
        _not_future(errors, "judgment_on", judgment_on, "判决日期")
        if upload is None:
            errors["upload"] = "请上传法院判决书（扫描件或照片）"
    else:
        errors["ground"] = "请选择依据"
    if errors:
        raise ValidationError(errors)
    judgment = _paper_add(actor=actor, case=case, kind=LegalPaper.Kind.JUDGMENT, upload=upload) \
        if ground == EC.Ground.JUDGMENT else None
    ec = existing or EC(case=case, county_id=case.county_id, school_id=case.school_id)
    old_state = ec.state if existing else None
    judged = ground == EC.Ground.JUDGMENT
    ec.state, ec.ground, ec.joint_attempts = EC.State.FILED, ground, n
    ec.court, ec.judgment_on, ec.judgment_no, ec.judgment = (
        (court.strip()[:100], judgment_on, judgment_no.strip()[:100], judgment) if judged else ("", None, "", None))
    ec.note, ec.filed_on, ec.filed_by = note.strip()[:300], on, _user(actor)
    ec.approver, ec.approved_on, ec.approval_no, ec.approval_paper, ec.approval_recorded_by = "", None, "", None, None
    ec.ended_on, ec.ended_reason, ec.ended_by = None, "", None
    ec.save()
    audit_record(actor=actor, action=Action.UPDATE if existing else Action.CREATE, obj=ec, scope_from=case.student,
                 changes={"state": [old_state and EC.State(old_state).label, ec.get_state_display()],
                          "ground": [None, ec.get_ground_display()], "joint_attempts": [None, n]},
                 note=f"申报义务教育有保障退出条件（{ec.get_ground_display()}）")
    return ec


def _locked_ec(ec: ExitCondition) -> ExitCondition:
    return EC.objects.select_for_update(of=("self",)).select_related("case__student", "case__school").get(pk=ec.pk)


@transaction.atomic
def exit_condition_approve(*, actor, ec: ExitCondition, approver: str, on: datetime.date, approval_no: str,
                           upload=None) -> ExitCondition:
    """经县级人民政府（乡村振兴工作领导小组）审批: from the approval date the student counts as
    meeting the exit condition, and stays in the dropout ledger for follow-up."""
    ec = _locked_ec(ec)
    if ec.state != EC.State.FILED:
        raise ValidationError(f"当前为“{ec.get_state_display()}”，不能登记审批")
    errors: dict = {}
    if approver not in EC.Approver.values:
        errors["approver"] = "请选择审批机关"
    if not (approval_no or "").strip():
        errors["approval_no"] = "请填写审批文号"
    if not on:
        errors["on"] = "请填写审批日期"
    elif on < ec.filed_on:
        errors["on"] = f"审批日期不能早于申报日期 {ec.filed_on}"
    _not_future(errors, "on", on, "审批日期")
    if errors:
        raise ValidationError(errors)
    paper = _paper_add(actor=actor, case=ec.case, kind=LegalPaper.Kind.APPROVAL, upload=upload) if upload else None
    ec.state, ec.approver, ec.approved_on, ec.approval_no = EC.State.APPROVED, approver, on, approval_no.strip()[:100]
    ec.approval_paper, ec.approval_recorded_by = paper, _user(actor)
    ec.save()
    audit_record(actor=actor, action=Action.UPDATE, obj=ec, scope_from=ec.case.student,
                 changes={"state": [EC.State.FILED.label, ec.get_state_display()],
                          "approver": [None, ec.get_approver_display()], "approved_on": [None, on],
                          "approval_no": [None, ec.approval_no]},
                 note="认定符合义务教育有保障退出条件；仍在辍学劝返台账中跟进")
    return ec


@transaction.atomic
def exit_condition_end(*, actor, ec: ExitCondition, state: str, reason: str,
                       on: datetime.date | None = None) -> ExitCondition:
    """Refused by the approving body (a filing) or withdrawn (a filing, or an approval revoked,
    e.g. the child came back): the record stays with the date, who and why."""
    ec = _locked_ec(ec)
    allowed = {EC.State.REFUSED: (EC.State.FILED,), EC.State.WITHDRAWN: (EC.State.FILED, EC.State.APPROVED)}
    if state not in allowed:
        raise ValidationError("未知的操作")
    if ec.state not in allowed[state]:
        raise ValidationError(f"当前为“{ec.get_state_display()}”，不能{EC.State(state).label}")
    on = on or timezone.localdate()
    errors: dict = {}
    if not (reason or "").strip():
        errors["reason"] = "请填写原因"
    _not_future(errors, "on", on, "日期")
    if errors:
        raise ValidationError(errors)
    old = ec.state
    ec.state, ec.ended_on, ec.ended_reason, ec.ended_by = state, on, reason.strip()[:300], _user(actor)
    ec.save()
    audit_record(actor=actor, action=Action.UPDATE, obj=ec, scope_from=ec.case.student,
                 changes={"state": [EC.State(old).label, ec.get_state_display()]}, note=ec.ended_reason)
    return ec


@transaction.atomic
def legal_step_record(*, actor, case: Case, kind: str, date: datetime.date, issued_by: str, doc_no: str = "",
                      upload=None, note: str = "") -> LegalStep:
    """One of the township's legal steps for a guardian who refuses: 批评教育, 责令送被监护人接受
    义务教育通知书, 行政处罚, 提起诉讼或申请强制执行, dated, with its document."""
    case = _locked_case(case)
    _require_dropout(case)
    errors: dict = {}
    if kind not in LegalStep.Kind.values:
        errors["kind"] = "请选择措施"
    if not date:
        errors["date"] = "请填写日期"
    else:
        _not_future(errors, "date", date, "日期")
        if case.dropout_on and date < case.dropout_on:
            errors["date"] = f"日期不能早于纳入辍学台账的日期 {case.dropout_on}"
    if not (issued_by or "").strip():
        errors["issued_by"] = "请填写实施单位（乡镇政府）"
    if kind in (LegalStep.Kind.ORDER, LegalStep.Kind.PENALTY, LegalStep.Kind.LAWSUIT) and upload is None:
        errors["upload"] = "请上传文书（扫描件或照片）"
    if errors:
        raise ValidationError(errors)
    paper = _paper_add(actor=actor, case=case, kind=LegalPaper.Kind.STEP, upload=upload) if upload else None
    step = LegalStep.objects.create(case=case, county_id=case.county_id, school_id=case.school_id, kind=kind,
                                    date=date, issued_by=issued_by.strip()[:100], doc_no=(doc_no or "").strip()[:100],
                                    paper=paper, note=(note or "").strip()[:300], recorded_by=_user(actor))
    audit_record(actor=actor, action=Action.CREATE, obj=step, scope_from=case.student,
                 object_repr=f"{case.student.name}：{step.get_kind_display()} {date}",
                 changes={"kind": [None, step.get_kind_display()], "date": [None, date], "doc_no": [None, step.doc_no]})
    return step
