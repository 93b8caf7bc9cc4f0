"""Every step of 13510 as one function: open, advance, close (销账), persuaders, attempts,
contacts, home visits, dropout with its 一生一表 and reports, 复学. Each writes its audit row."""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from baoxue.audit.models import Action
from baoxue.audit.services import audit_record
from baoxue.cases import signals
from baoxue.cases.models import (
    STAGE_ORDER,
    Case,
    ContactRecord,
    DropoutCause,
    DropoutForm,
    HomeVisit,
    Outcome,
    Persuader,
    PersuasionAttempt,
    Report,
    Rules,
    Stage,
    Task,
)
from baoxue.org.models import RegistryStatus, School, Student


def rules_for(county_id: int) -> Rules:
    """The county's current 13510 rules (the plan's 1/3/5 days, 10 working days, 3 attempts
    until the county sets its own)."""
    from baoxue.cases.selectors import current_rules

    rules = current_rules(county_id)
    if rules.pk is None:
        rules.save()  # a case keeps the version it was opened under, so the default gets a row
    return rules


@transaction.atomic
def rules_change(*, actor, county, contact_day: int, visit_day: int, suspect_day: int,
                 persuasion_working_days: int, min_attempts: int, observation_terms: int | None = None,
                 repeat_absent_days: int | None = None, repeat_window_days: int | None = None) -> Rules:
    """A county changes its thresholds: a new version for new cases; open cases keep theirs."""
    if not (1 <= contact_day < visit_day < suspect_day):
        raise ValidationError("天数须满足：联系家长 < 家访跟进 < 疑似辍学，且至少为1")
    old = rules_for(county.pk)
    observation_terms = old.observation_terms if observation_terms is None else observation_terms
    repeat_absent_days = old.repeat_absent_days if repeat_absent_days is None else repeat_absent_days
    repeat_window_days = old.repeat_window_days if repeat_window_days is None else repeat_window_days
    if not (1 <= repeat_absent_days <= repeat_window_days):
        raise ValidationError("反复缺勤：缺勤天数须至少为1，且不多于统计的在校日数")
    new = Rules.objects.create(county=county, contact_day=contact_day, visit_day=visit_day, suspect_day=suspect_day,
                               persuasion_working_days=persuasion_working_days, min_attempts=min_attempts,
                               observation_terms=observation_terms, repeat_absent_days=repeat_absent_days,
                               repeat_window_days=repeat_window_days,
                               created_by=actor if getattr(actor, "is_authenticated", False) else None)
    audit_record(actor=actor, action=Action.UPDATE, obj=new, object_repr=f"{county} 13510 规则",
                 changes={"rules": [str(old), str(new)]})
    return new


def _stage_at_least(case: Case, stage: str) -> bool:
    return STAGE_ORDER.index(case.stage) >= STAGE_ORDER.index(stage)


def case_open(*, student_id: int, school: School, run_days: list[datetime.date]) -> Case:
    """A case opened by a person's finding rather than by attendance (a primary graduate who did
    not enrol); the daily job opens its cases through `baoxue.cases.sync`."""
    case = Case.objects.create(
        county_id=school.county_id, school=school, student_id=student_id, rules=rules_for(school.county_id),
        first_absent_on=run_days[0], last_absent_on=run_days[-1], unexcused_days=0,
    )
    audit_record(actor=None, actor_label="每日预警任务", action=Action.CREATE, obj=case, scope_from=case.student,
                 note=f"无正当原因未到校，{run_days[0]} 起")
    return case


@transaction.atomic
def case_close(*, case: Case, on: datetime.date, outcome: str, actor, note: str = "", actor_label: str = "") -> Case:
    """销账 by a person: the run ended. Open tasks close with it. Rows stay, with date, who and why.
    (The daily job closes cases through `baoxue.cases.sync`.)"""
    case.is_open = False
    case.outcome = outcome
    case.closed_on = on
    case.closed_by = actor if getattr(actor, "is_authenticated", False) else None
    case.close_note = note[:200]
    case.save()
    Task.objects.filter(case=case, done_on__isnull=True, closed_on__isnull=True).update(closed_on=on)
    audit_record(actor=actor, actor_label=actor_label, action=Action.UPDATE, obj=case, scope_from=case.student,
                 changes={"state": ["open", "closed"], "outcome": [None, outcome]}, note=note)
    return case


@transaction.atomic
def case_to_dropout(*, case: Case, on: datetime.date, cause: str, actor, actor_label: str = "", reason: str = "") -> Case:
    """对失踪失联和劝返不成功的，纳入辍学学生劝返台账，建立“一生一表”档案，并报告乡镇政府和教育主管部门."""
    old_stage = case.stage
    case.stage = Stage.DROPOUT
    case.dropout_on = on
    case.dropout_cause = cause
    if reason:
        case.dropout_reason = reason
    case.save()
    audit_record(actor=actor, actor_label=actor_label, action=Action.UPDATE, obj=case, scope_from=case.student,
                 changes={"stage": [old_stage, Stage.DROPOUT], "dropout_on": [None, on]})
    dropout_followups(case=case, actor=actor, actor_label=actor_label)
    return case


def dropout_followups(*, case: Case, actor, actor_label: str = "") -> None:
    """What entering the dropout ledger brings: 学籍状态 辍学, the 一生一表, and the reports to the
    township of residence and the county bureau (each once, however often it is called)."""
    on, cause = case.dropout_on, case.dropout_cause
    student = Student.objects.select_related("school", "residence_township").get(pk=case.student_id)
    if student.status == RegistryStatus.IN_SCHOOL:
        old_status, old_since = student.status, student.status_since
        student.status = RegistryStatus.DROPPED_OUT
        student.status_since = on
        student.save(update_fields=["status", "status_since", "updated_at"])
        audit_record(actor=actor, actor_label=actor_label, action=Action.UPDATE, obj=student,
                     changes={"status": [old_status, RegistryStatus.DROPPED_OUT], "status_since": [old_since, on]},
                     note=f"纳入辍学学生劝返台账（{DropoutCause(cause).label}）")
    from baoxue.cases.forms_doc import build_form_data

    form, created = DropoutForm.objects.get_or_create(case=case, defaults={"data": build_form_data(case)})
    if created:
        audit_record(actor=actor, actor_label=actor_label, action=Action.CREATE, obj=form, scope_from=student,
                     object_repr=f"{student.name} 一生一表")
    township = student.residence_township or student.school.township
    made = []
    for recipient, township_obj in ((Report.Recipient.TOWNSHIP, township), (Report.Recipient.COUNTY, None)):
        report, created = Report.objects.get_or_create(
            case=case, recipient=recipient,
            defaults={"county_id": case.county_id, "township": township_obj, "sent_on": on},
        )
        if created:
            audit_record(actor=actor, actor_label=actor_label, action=Action.CREATE, obj=report, scope_from=student,
                         object_repr=f"{student.name} 辍学报告 → {township_obj or '县教体局'}")
            made.append(report)
    if made:
        signals.dropout_reported.send(sender=dropout_followups, reports=made)


def dropout_withdrawn(*, case: Case, actor, actor_label: str = "", note: str = "") -> None:
    """A corrected attendance shows the run never reached the dropout ledger: the student is
    在校 again (the 一生一表 and the reports stay, with the case's history)."""
    student = Student.objects.get(pk=case.student_id)
    if student.status == RegistryStatus.DROPPED_OUT and student.status_since == case.dropout_on:
        student.status = RegistryStatus.IN_SCHOOL
        student.status_since = case.first_absent_on
        student.save(update_fields=["status", "status_since", "updated_at"])
        audit_record(actor=actor, actor_label=actor_label, action=Action.UPDATE, obj=student,
                     changes={"status": [RegistryStatus.DROPPED_OUT, RegistryStatus.IN_SCHOOL]},
                     note=note or "考勤更正：连续缺勤未达到纳入辍学台账的条件，学籍状态恢复在校")


@transaction.atomic
def case_mark_missing(*, actor, case: Case, on: datetime.date, note: str = "") -> Case:
    """失踪失联: straight to the dropout ledger, whatever stage the run reached."""
    if case.stage == Stage.DROPOUT:
        raise ValidationError("该学生已在辍学学生劝返台账中")
    return case_to_dropout(case=case, on=on, cause=DropoutCause.MISSING, actor=actor, reason=note or "失踪失联")


@transaction.atomic
def case_resume(*, actor, case: Case, on: datetime.date, note: str = "") -> Case:
    """复学: a dropout returns; 学籍状态 goes back to 在校 and the ledger row is closed."""
    if case.stage != Stage.DROPOUT or not case.is_open:
        raise ValidationError("只有辍学劝返中的个案可以办理复学")
    student = case.student
    old = student.status
    student.status = RegistryStatus.IN_SCHOOL
    student.status_since = on
    student.save(update_fields=["status", "status_since", "updated_at"])
    audit_record(actor=actor, action=Action.UPDATE, obj=student, changes={"status": [old, RegistryStatus.IN_SCHOOL]},
                 note="劝返复学")
    return case_close(case=case, on=on, outcome=Outcome.RESUMED, actor=actor, note=note or "劝返复学，销账")


@transaction.atomic
def persuader_assign(*, actor, case: Case, name: str, unit: str = "学校", user=None, phone: str = "",
                     on: datetime.date | None = None) -> Persuader:
    """落实专人动员劝返: the office names one or more persuaders."""
    if not _stage_at_least(case, Stage.SUSPECTED_DROPOUT):
        raise ValidationError("第5天纳入疑似辍学学生台账后才指派劝返责任人")
    p = Persuader.objects.create(case=case, user=user, name=name or (user.get_full_name() if user else ""), unit=unit,
                                 phone=phone, assigned_on=on or timezone.localdate(),
                                 assigned_by=actor if getattr(actor, "is_authenticated", False) else None)
    audit_record(actor=actor, action=Action.CREATE, obj=p, scope_from=case.student, object_repr=f"劝返责任人 {p}")
    return p


@transaction.atomic
def attempt_add(*, actor, case: Case, date: datetime.date, method: str, participants: list[dict], result: str,
                reason_heard: str = "", next_step: str = "", attachment=None) -> PersuasionAttempt:
    """劝返记录. A 联合劝返 has at least one participant from outside the school."""
    if not _stage_at_least(case, Stage.SUSPECTED_DROPOUT):
        raise ValidationError("纳入疑似辍学学生台账后才记录劝返")
    if date > timezone.localdate():
        raise ValidationError({"date": "劝返日期不能晚于今天"})
    if date < (case.suspected_on or case.dropout_on):
        raise ValidationError({"date": "劝返日期不能早于纳入台账的日期"})
    participants = [{"name": p.get("name", "").strip(), "unit": p.get("unit", "").strip()}
                    for p in participants if p.get("name", "").strip()]
    if not participants:
        raise ValidationError({"participants": "请填写参与劝返的人员"})
    if method == PersuasionAttempt.Method.JOINT and all(p["unit"] in ("", "学校", case.school.name) for p in participants):
        raise ValidationError({"participants": "联合劝返须有学校以外的参与人员（村委会、派出所、乡镇、民政等）"})
    number = (case.attempts.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    attempt = PersuasionAttempt.objects.create(
        case=case, number=number, date=date, method=method, participants=participants, result=result,
        reason_heard=reason_heard, next_step=next_step, attachment=attachment or "",
        recorded_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    audit_record(actor=actor, action=Action.CREATE, obj=attempt, scope_from=case.student,
                 object_repr=f"第{number}次劝返 {date}", changes={"result": [None, result]})
    return attempt


@transaction.atomic
def contact_add(*, actor, case: Case, at: datetime.datetime, method: str, reached: str, reason_given: str = "",
                result: str = "") -> ContactRecord:
    """联系家长了解情况: the record completes the day-1 task."""
    record = ContactRecord.objects.create(case=case, at=at, method=method, reached=reached, reason_given=reason_given,
                                          result=result, recorded_by=actor if getattr(actor, "is_authenticated", False) else None)
    Task.objects.filter(case=case, kind=Task.Kind.CONTACT_GUARDIAN, done_on__isnull=True).update(done_on=timezone.localdate(at))
    audit_record(actor=actor, action=Action.CREATE, obj=record, scope_from=case.student,
                 object_repr=f"联系家长 {record.get_method_display()} {reached}")
    return record


@transaction.atomic
def home_visit_add(*, actor, case: Case, date: datetime.date, visitors: str, met: str, findings: str,
                   attachment=None) -> HomeVisit:
    """家访或与监护人联系跟进: the record completes the day-3 task."""
    visit = HomeVisit.objects.create(case=case, date=date, visitors=visitors, met=met, findings=findings,
                                     attachment=attachment or "",
                                     recorded_by=actor if getattr(actor, "is_authenticated", False) else None)
    Task.objects.filter(case=case, kind=Task.Kind.HOME_VISIT, done_on__isnull=True).update(done_on=date)
    audit_record(actor=actor, action=Action.CREATE, obj=visit, scope_from=case.student, object_repr=f"家访 {date}")
    return visit


@transaction.atomic
def report_read(*, actor, report: Report) -> Report:
    if report.read_at is None:
        report.read_at = timezone.now()
        report.read_by = actor
        report.save(update_fields=["read_at", "read_by"])
        audit_record(actor=actor, action=Action.UPDATE, obj=report, scope_from=report.case.student,
                     changes={"read_at": [None, report.read_at]}, object_repr="辍学报告已查阅")
    return report


@transaction.atomic
def dropout_form_update(*, actor, form: DropoutForm, data: dict) -> DropoutForm:
    changes = {k: [form.data.get(k), v] for k, v in data.items() if form.data.get(k) != v}
    form.data = {**form.data, **data}
    form.save()
    # The ledger reads the case: keep its copies of the free-text fields in step with the form.
    case_fields = {k: v for k, v in data.items() if k in ("dropout_reason", "whereabouts", "support")}
    if case_fields:
        Case.objects.filter(pk=form.case_id).update(**case_fields)
    if changes:
        audit_record(actor=actor, action=Action.UPDATE, obj=form, scope_from=form.case.student, changes=changes,
                     object_repr=f"{form.case.student.name} 一生一表")
    return form


# ---------------------------------------------------------------- 学籍异动 during an open case

@transaction.atomic
def case_change_pending(*, actor, case: Case, change: str, since: datetime.date,
                        due_on: datetime.date | None = None) -> Case:
    """A departure (转出, 休学, 死亡, 出国 …) recorded while the case is open. A transfer recorded
    is not a transfer done: the case stays open, marked 学籍异动办理中, and the days from `since`
    (through `due_on`, the change's deadline) do not count, until the change is completed."""
    case.change_pending, case.change_since, case.change_due_on = change[:20], since, due_on
    case.save(update_fields=["change_pending", "change_since", "change_due_on"])
    audit_record(actor=actor, action=Action.UPDATE, obj=case, scope_from=case.student,
                 changes={"change_pending": [None, change], "change_since": [None, since], "change_due_on": [None, due_on]},
                 note="学籍异动办理中：个案保持未销账，异动办结后按异动结果销账")
    _replay_from(case, since, note=f"学籍异动（{change}）办理中")
    return case


@transaction.atomic
def case_change_completed(*, actor, case: Case, outcome: str, on: datetime.date, note: str = "") -> Case:
    """The departure was completed (a transfer confirmed in 国网 by the receiving school, a 休学
    approved …): the case closes with the matching outcome."""
    case.change_pending = ""
    case.save(update_fields=["change_pending"])
    return case_close(case=case, on=on, outcome=outcome, actor=actor, note=note or f"学籍异动办结：{Outcome(outcome).label}")


@transaction.atomic
def case_change_cleared(*, actor, case: Case, note: str) -> Case:
    """The departure was cancelled: the student is expected at school again, and the days since
    the change count as they were (the case comes back with its flags)."""
    since = case.change_since
    old = case.change_pending
    case.change_pending, case.change_since, case.change_due_on = "", None, None
    case.save(update_fields=["change_pending", "change_since", "change_due_on"])
    audit_record(actor=actor, action=Action.UPDATE, obj=case, scope_from=case.student,
                 changes={"change_pending": [old, None]}, note=note)
    if since is not None:
        _replay_from(case, since, note=note)
    return case


def _replay_from(case: Case, since: datetime.date, *, note: str) -> None:
    from baoxue.cases.replay import replay

    replay(school=case.school, student_ids={case.student_id}, since=since, note=note)
