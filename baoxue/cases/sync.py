"""Bring stored cases to what a run has become (`escalation.RunState`), in place.

A case is an identity: its contacts, home visits, persuaders and attempts stay attached whatever
the job or a replay changes. Each change writes its audit row; tasks no longer due are
cancelled, never deleted."""

import datetime

from django.utils import timezone

from baoxue.audit.models import Action
from baoxue.audit.services import audit_record
from baoxue.cases import services, signals
from baoxue.cases.models import Case, Outcome, Stage, Task
from baoxue.org.models import Student

# The fields of a case that attendance decides.
RUN_FIELDS = ("first_absent_on", "last_absent_on", "unexcused_days", "stage", "suspected_on", "persuasion_due",
              "dropout_on", "dropout_cause", "seen_at_school_on", "head_start", "is_open", "outcome", "closed_on")
CLOSE_NOTES = {Outcome.RETURNED: "到校，销账", Outcome.EXCUSED: "请假（正当原因），连续缺勤中断"}

rules_for = services.rules_for


class Writer:
    """Writes run states of one school's students as cases, with their tasks and audit rows."""

    def __init__(self, school, *, actor_label: str, note: str = ""):
        self.school = school
        self.actor_label = actor_label
        self.note = note

    def _audit(self, case: Case, **kwargs) -> None:
        # The student's keys are on the case: no read of the student per row.
        scope = Student(pk=case.student_id, county_id=case.county_id, school_id=case.school_id)
        audit_record(actor=None, actor_label=self.actor_label, scope_from=scope, note=kwargs.pop("note", self.note),
                     **kwargs)

    def save(self, case: Case | None, state, student: dict) -> Case:
        """Store `state` as `case` (a new case when None)."""
        if case is None:
            case = Case(county_id=self.school.county_id, school=self.school, student_id=student["id"], rules=state.rules)
            old = None
        else:
            old = {f: getattr(case, f) for f in RUN_FIELDS}
        for f in RUN_FIELDS:
            setattr(case, f, getattr(state, f))
        if not state.is_open:
            if old is None or old["is_open"] or old["outcome"] != state.outcome:
                case.closed_by = None
                case.close_note = CLOSE_NOTES.get(state.outcome, "")
        else:
            case.closed_by, case.close_note = None, ""
        changes = {} if old is None else {f: [old[f], getattr(case, f)] for f in RUN_FIELDS if old[f] != getattr(case, f)}
        if old is None or changes:
            if old is None:
                case.save()
            else:
                case.save(update_fields=[f for f in RUN_FIELDS if f in changes] + ["closed_by", "close_note"])
            note = f"无正当原因未到校，{state.first_absent_on} 起" if old is None else self.note
            self._audit(case, action=Action.CREATE if old is None else Action.UPDATE, obj=case,
                        object_repr=f"{student['name']} {case.first_absent_on} 起连续缺勤", changes=changes or None,
                        note=note)
        was_dropout = old is not None and old["stage"] == Stage.DROPOUT
        if case.stage == Stage.DROPOUT and not was_dropout:
            services.dropout_followups(case=case, actor=None, actor_label=self.actor_label)
        elif was_dropout and case.stage != Stage.DROPOUT:
            services.dropout_withdrawn(case=case, actor=None, actor_label=self.actor_label)
        if case.suspected_on is not None and (old is None or old["suspected_on"] is None):
            signals.case_suspected.send(sender=Writer, cases=[case])
        self._tasks(case, state, student, {} if old is None else {t.kind: t for t in case.tasks.all()})
        return case

    def _tasks(self, case: Case, state, student: dict, existing: dict) -> None:
        closed_on = None if state.is_open else state.closed_on
        opened = []
        for kind, (opened_on, due_on) in state.tasks.items():
            task = existing.get(kind)
            if task is None:
                task = Task.objects.create(case=case, county_id=case.county_id, school_id=case.school_id, kind=kind,
                                           opened_on=opened_on, due_on=due_on, closed_on=closed_on,
                                           assignee_id=student.get("school_class__head_teacher_id"))
                self._audit(case, action=Action.CREATE, obj=task, note=f"{task.get_kind_display()}，截止 {due_on}")
                opened.append(task)
                continue
            old = (task.opened_on, task.due_on, task.closed_on, task.cancelled_on)
            if task.done_on is None:
                task.opened_on, task.due_on, task.closed_on = opened_on, due_on, closed_on
            task.cancelled_on = None
            if (task.opened_on, task.due_on, task.closed_on, task.cancelled_on) != old:
                task.save()
                self._audit(case, action=Action.UPDATE, obj=task,
                            changes={"due_on": [old[1], task.due_on], "state": [_task_state(*old[2:]), "restored"]})
        if opened:
            signals.tasks_opened.send(sender=Writer, tasks=opened)
        today = timezone.localdate()
        for kind, task in existing.items():
            if kind not in state.tasks and task.cancelled_on is None and task.done_on is None:
                task.cancelled_on = task.closed_on = today
                task.save(update_fields=["cancelled_on", "closed_on"])
                self._audit(case, action=Action.UPDATE, obj=task,
                            changes={"state": ["open", "cancelled"]}, note="考勤更正后连续缺勤未到这一天：待办撤销")

    def withdraw(self, case: Case, on: datetime.date) -> Case:
        """The correction removed the run entirely: 考勤更正撤销, dated the day it was made, its
        records kept and visible."""
        if case.stage == Stage.DROPOUT and case.dropout_cause != "missing":
            services.dropout_withdrawn(case=case, actor=None, actor_label=self.actor_label)
        old = (case.is_open, case.outcome, case.closed_on)
        case.is_open, case.outcome, case.closed_on = False, Outcome.CORRECTED, on
        case.closed_by, case.close_note = None, f"考勤更正后这段连续缺勤不存在（{self.note}）"[:200]
        case.save()
        Task.objects.filter(case=case, done_on__isnull=True, closed_on__isnull=True).update(closed_on=on)
        self._audit(case, action=Action.UPDATE, obj=case,
                    changes={"state": ["open" if old[0] else "closed", "closed"], "outcome": [old[1] or None, Outcome.CORRECTED]})
        return case


def _task_state(closed_on, cancelled_on) -> str:
    return "cancelled" if cancelled_on else ("closed" if closed_on else "open")
