"""Pages of 13510: the inbox, one case with its steps, the two ledgers, the 一生一表 and the
county's rules.

Reads go through `selectors` (outside the user's scope is a 404), writes through `services`
(which write the audit rows); a service's ValidationError is shown on the form it came from.
"""

import types
from pathlib import Path
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, F
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from baoxue.audit.models import Action
from baoxue.audit.services import audit_record
from baoxue.cases import ledgers, selectors, services
from baoxue.cases.forms import (
    UNITS,
    AttemptForm,
    CloseForm,
    ContactForm,
    DropoutFormEditForm,
    HomeVisitForm,
    LedgerFilterForm,
    MissingForm,
    PersuaderForm,
    ResumeForm,
    RulesForm,
)
from baoxue.cases.forms_doc import EDITABLE_FIELDS, build_form_data, form_docx
from baoxue.cases.models import STAGE_ORDER, Case, DropoutForm, HomeVisit, PersuasionAttempt, Rules, Stage, Task
from baoxue.lib.idcard import mask_id, mask_phone
from baoxue.org import selectors as org_selectors
from baoxue.org.forms import mask_registry_no
from baoxue.org.models import County, FamilyMember, Role, Student
from baoxue.web import apply_service, xlsx_response

PAGE_SIZE = 50
INBOX_LIMIT = 200
# Parts of the 一生一表 that are lists of records (contacts, visits, attempts, persuaders).
RECORD_KEYS = ("contacts", "home_visits", "attempts", "persuaders")


def _open_cases(qs):
    return qs.filter(is_open=True).select_related("student__school_class__grade", "school", "rules")


def _urgency(case) -> tuple:
    return (not case.clock.overdue, not case.clock.short, -STAGE_ORDER.index(case.stage), case.first_absent_on)


# ---------------------------------------------------------------- inbox

def _repeated_absence(user, today):
    """反复缺勤 flags for the office (its schools) and the head teacher (their classes)."""
    from baoxue.org.models import Student

    found: dict[int, int] = {}
    for school in selectors.office_schools(user):
        found.update(selectors.repeated_absence(school, today=today))
    for school_class in org_selectors.classes_for_user(user).filter(head_teacher=user).select_related("school"):
        ids = school_class.students.values_list("pk", flat=True)
        found.update(selectors.repeated_absence(school_class.school, today=today, student_ids=ids))
    students = list(Student.objects.filter(pk__in=list(found)).select_related("school_class__grade")
                    .order_by("school_class_id", "name"))
    for s in students:
        s.absent_days = found[s.pk]
    return students


@never_cache
@login_required
def inbox(request):
    """13510 待办: my steps, my cases; the office's open cases; the leaders' counts; the
    township's and the bureau's reports."""
    user = request.user
    today = timezone.localdate()
    roles = org_selectors.roles_of(user)

    tasks = list(selectors.my_open_tasks(user))
    for t in tasks:
        t.text = selectors.task_text(t, today)
    mine = selectors.with_clocks(selectors.with_attempt_counts(_open_cases(selectors.my_cases(user))), today)

    offices = []
    scope = selectors.cases_for_user(user)
    if org_selectors.is_admin(user):
        offices.append({"title": "全部学校", "qs": scope, "many_schools": True})
    else:
        for school in selectors.office_schools(user):
            offices.append({"title": school.name, "qs": scope.filter(school=school), "many_schools": False})
    for o in offices:
        o["counts"] = selectors.case_counts(o["qs"], today)
        cases = selectors.with_clocks(selectors.with_attempt_counts(_open_cases(o["qs"]))
                                      .order_by("-first_absent_on")[:INBOX_LIMIT], today)
        o["cases"] = sorted(cases, key=_urgency)
        o["truncated"] = o["counts"]["open"] > INBOX_LIMIT

    office_ids = {s.pk for s in selectors.office_schools(user)}
    overviews = [{"title": s.name, "school": s, "counts": selectors.case_counts(scope.filter(school=s), today)}
                 for s in selectors.overview_schools(user) if s.pk not in office_ids]
    for m in org_selectors.memberships(user):
        if m.role == Role.COUNTY:
            overviews.append({"title": f"{m.county.name}（全县）", "many_schools": True, "counts": selectors.case_counts(
                scope.filter(county_id=m.county_id), today)})

    reports = None
    if org_selectors.is_admin(user) or roles & {Role.TOWNSHIP, Role.COUNTY}:
        reports = list(selectors.reports_for_user(user)
                       .select_related("case__student__school_class__grade", "case__school", "township", "read_by")
                       .order_by(F("read_at").asc(nulls_first=True), "-sent_on", "-id")[:INBOX_LIMIT])

    repeated = _repeated_absence(user, today)
    return render(request, "cases/inbox.html", {
        "today": today, "tasks": tasks, "mine": mine, "offices": offices, "overviews": overviews, "reports": reports,
        "repeated": repeated,
        "unread": sum(1 for r in reports or [] if r.read_at is None),
        "can_see_ledgers": selectors.can_see_ledgers(user),
        "rules_link": org_selectors.is_admin(user) or Role.COUNTY in roles,
    })


@login_required
@require_POST
def report_read(request, pk):
    report = get_object_or_404(selectors.reports_for_user(request.user).select_related("case__student"), pk=pk)
    services.report_read(actor=request.user, report=report)
    messages.success(request, f"已阅：{report.case.student.name} 辍学报告")
    return redirect(reverse("cases_inbox") + "#reports")


# ---------------------------------------------------------------- one case

def _steps(case: Case) -> list[dict]:
    """The 13510 steps as a progress line, each on when the run really reached it (a student
    marked missing on day 2 skips straight to the dropout ledger)."""
    rules = case.rules
    n = case.unexcused_days
    return [
        {"label": f"第{rules.contact_day}天 联系家长", "on": n >= rules.contact_day},
        {"label": f"第{rules.visit_day}天 家访跟进", "on": n >= rules.visit_day},
        {"label": f"第{rules.suspect_day}天 疑似辍学", "on": case.suspected_on is not None},
        {"label": "辍学劝返", "on": case.dropout_on is not None},
    ]


def _task_state(task: Task, today) -> str:
    if task.cancelled_on:
        return "cancelled"  # 已撤销（考勤更正）: no longer due, whatever was recorded stays
    if task.done_on:
        return "done"
    if task.closed_on:
        return "closed"
    return "overdue" if task.due_on < today else "open"


def _detail_context(request, case: Case, **bound) -> dict:
    user = request.user
    today = timezone.localdate()
    student = case.student
    attempts = list(case.attempts.select_related("recorded_by"))
    tasks = list(case.tasks.select_related("assignee"))
    for t in tasks:
        t.text = selectors.task_text(t, today)
        t.state = _task_state(t, today)
    counted, late = selectors.attempt_counts(case)
    for a in attempts:
        a.standing = selectors.attempt_standing(case, a)
    clock = case.clock = selectors.persuasion_clock(case, today=today, attempts=counted)
    case.flags = selectors.case_flags(case, today=today, attempts_in_window=counted, late_attempts=late, clock=clock)

    can_manage = selectors.can_manage_case(user, case) and case.is_open
    can_contact = selectors.can_record_contact(user, case) and case.is_open
    # attempt_add checks the date against suspected_on, which a student marked missing before
    # day 5 does not have (the service would fail): until it accepts that, the form is held back.
    can_attempt = (selectors.can_record_attempt(user, case) and case.is_open and case.suspected_on is not None)
    at_least_suspected = STAGE_ORDER.index(case.stage) >= STAGE_ORDER.index(Stage.SUSPECTED_DROPOUT)
    ctx = {
        "case": case, "student": student, "today": today, "clock": clock, "steps": _steps(case), "tasks": tasks,
        "family": list(FamilyMember.objects.filter(student=student).order_by("-is_guardian", "id")),
        "can_see_phone": org_selectors.can_see_phone(user, student),
        "can_reveal": org_selectors.can_reveal_id(user, student),
        "student_visible": org_selectors.students_for_user(user).filter(pk=student.pk).exists(),
        "contacts": list(case.contacts.select_related("recorded_by")),
        "visits": list(case.home_visits.select_related("recorded_by")),
        "persuaders": list(case.persuaders.select_related("user")),
        "attempts": attempts,
        "reports": list(case.reports.select_related("township", "read_by")),
        "dropout_form": DropoutForm.objects.filter(case=case).only("pk").first(),
        "other_cases": list(selectors.cases_for_user(user).filter(student=student).exclude(pk=case.pk)
                            .order_by("-first_absent_on")),
        "can_manage": can_manage, "can_contact": can_contact, "can_attempt": can_attempt,
        "attempt_blocked": (selectors.can_record_attempt(user, case) and case.is_open and case.suspected_on is None),
        "at_least_suspected": at_least_suspected, "units": UNITS,
        # Steps still to do: their forms start open for the one who records them.
        "pending": {t.kind for t in tasks if t.state in ("open", "overdue")} if can_contact else set(),
    }
    if can_contact:
        ctx["contact_form"] = bound.get("contact_form") or ContactForm()
        ctx["visit_form"] = bound.get("visit_form") or HomeVisitForm()
    if can_attempt:
        ctx["attempt_form"] = bound.get("attempt_form") or AttemptForm(actor=user)
    if can_manage:
        if at_least_suspected:
            ctx["persuader_form"] = bound.get("persuader_form") or PersuaderForm(school=case.school)
        if case.stage != Stage.DROPOUT:
            ctx["missing_form"] = bound.get("missing_form") or MissingForm(case=case)
        else:
            ctx["resume_form"] = bound.get("resume_form") or ResumeForm(case=case)
        ctx["close_form"] = bound.get("close_form") or CloseForm(case=case)
    ctx["open_form"] = next(iter(bound), "")
    return ctx


@never_cache
@login_required
def case_detail(request, pk):
    case = selectors.get_case_for_user(request.user, pk)
    return render(request, "cases/case_detail.html", _detail_context(request, case))


def _step(request, pk, *, allowed, form_factory, form_name: str, call, done: str, anchor: str):
    """One POSTed step on a case: check who may, validate, call the service, report back."""
    user = request.user
    case = selectors.get_case_for_user(user, pk)
    if not allowed(user, case):
        raise Http404("没有找到该个案")
    if not case.is_open:
        messages.error(request, "该个案已销账，不能再办理")
        return redirect("case_detail", pk=case.pk)
    form = form_factory(case)
    if form.is_valid() and apply_service(form, lambda: call(case, form)):
        messages.success(request, done)
        return redirect(reverse("case_detail", args=[case.pk]) + f"#{anchor}")
    return render(request, "cases/case_detail.html", _detail_context(request, case, **{form_name: form}))


@login_required
@require_POST
def contact_add(request, pk):
    return _step(
        request, pk, allowed=selectors.can_record_contact, form_name="contact_form", anchor="contacts",
        form_factory=lambda case: ContactForm(request.POST),
        call=lambda case, f: services.contact_add(actor=request.user, case=case, **f.cleaned_data),
        done="已保存联系家长记录",
    )


@login_required
@require_POST
def visit_add(request, pk):
    return _step(
        request, pk, allowed=selectors.can_record_contact, form_name="visit_form", anchor="visits",
        form_factory=lambda case: HomeVisitForm(request.POST, request.FILES),
        call=lambda case, f: services.home_visit_add(actor=request.user, case=case, **f.cleaned_data),
        done="已保存家访记录",
    )


@login_required
@require_POST
def persuader_add(request, pk):
    def call(case, f):
        d = f.cleaned_data
        services.persuader_assign(actor=request.user, case=case, name=d["name"], unit=d["unit"], user=d["user"],
                                  phone=d["phone"])

    return _step(
        request, pk, allowed=selectors.can_manage_case, form_name="persuader_form", anchor="persuaders",
        form_factory=lambda case: PersuaderForm(request.POST, school=case.school), call=call, done="已指派劝返责任人",
    )


@login_required
@require_POST
def attempt_add(request, pk):
    def call(case, f):
        d = f.cleaned_data
        services.attempt_add(actor=request.user, case=case, date=d["date"], method=d["method"],
                             participants=f.participants(), result=d["result"], reason_heard=d["reason_heard"],
                             next_step=d["next_step"], attachment=d["attachment"])

    return _step(
        request, pk, allowed=lambda user, case: case.suspected_on is not None and selectors.can_record_attempt(user, case),
        form_name="attempt_form", anchor="attempts",
        form_factory=lambda case: AttemptForm(request.POST, request.FILES), call=call, done="已保存劝返记录",
    )


@login_required
@require_POST
def mark_missing(request, pk):
    return _step(
        request, pk, allowed=selectors.can_manage_case, form_name="missing_form", anchor="top",
        form_factory=lambda case: MissingForm(request.POST, case=case),
        call=lambda case, f: services.case_mark_missing(actor=request.user, case=case, on=f.cleaned_data["on"],
                                                        note=f.cleaned_data["note"]),
        done="已标记失踪失联：纳入辍学学生劝返台账，一生一表已建立，并已报告乡镇政府和县教体局",
    )


@login_required
@require_POST
def resume(request, pk):
    return _step(
        request, pk, allowed=selectors.can_manage_case, form_name="resume_form", anchor="top",
        form_factory=lambda case: ResumeForm(request.POST, case=case),
        call=lambda case, f: services.case_resume(actor=request.user, case=case, on=f.cleaned_data["on"],
                                                  note=f.cleaned_data["note"]),
        done="已办理复学，学籍状态恢复为在校，辍学台账已销账",
    )


@login_required
@require_POST
def close(request, pk):
    return _step(
        request, pk, allowed=selectors.can_manage_case, form_name="close_form", anchor="top",
        form_factory=lambda case: CloseForm(request.POST, case=case),
        call=lambda case, f: services.case_close(actor=request.user, case=case, on=f.cleaned_data["on"],
                                                 outcome=f.cleaned_data["outcome"], note=f.cleaned_data["note"]),
        done="已销账",
    )


@never_cache
@login_required
def attachment(request, pk, kind, item_pk):
    """An attachment of a home visit or an attempt, only to those who may open the case."""
    case = selectors.get_case_for_user(request.user, pk)
    model = {"visit": HomeVisit, "attempt": PersuasionAttempt}.get(kind)
    if model is None:
        raise Http404("没有找到附件")
    item = get_object_or_404(model, pk=item_pk, case=case)
    if not item.attachment:
        raise Http404("没有找到附件")
    name = Path(item.attachment.name).name
    inline = Path(name).suffix.lower() in {".jpg", ".jpeg", ".png", ".gif", ".webp", ".pdf"}
    response = FileResponse(item.attachment.open("rb"), as_attachment=not inline, filename=name)
    response["Cache-Control"] = "no-store"
    return response


# ---------------------------------------------------------------- 一生一表

def _dropout_form(user, pk) -> tuple[Case, DropoutForm]:
    case = selectors.get_case_for_user(user, pk)
    form = DropoutForm.objects.filter(case=case).first()
    if form is None:
        raise Http404("该个案还没有一生一表（纳入辍学学生劝返台账时建立）")
    return case, form


def _form_data(user, case: Case, form: DropoutForm, *, full_ids: bool) -> dict:
    """The stored content, with identifiers masked unless shown on purpose and phones masked
    for those who do not call families."""
    data = dict(form.data)
    # The identity block stays as stored when the case entered the dropout ledger; the records
    # only grow (persuasion goes on), so the form lists every one made so far.
    current = build_form_data(case)
    data.update({key: current[key] for key in RECORD_KEYS})
    if not full_ids:
        data["id_number"] = mask_id(data.get("id_number", ""))
        data["registry_no"] = mask_registry_no(data.get("registry_no", ""))
    if not org_selectors.can_reveal_id(user, case.student) and data.get("birth_date"):
        # Beside a masked number the full date would give away 8 of its hidden digits.
        data["birth_date"] = f"{str(data['birth_date'])[:4]}年"
    if not org_selectors.can_see_phone(user, case.student):
        data["family"] = [{**m, "phone": mask_phone(m.get("phone", ""))} for m in data.get("family", [])]
    return data


@never_cache
@login_required
def form_print(request, pk):
    """The 一生一表 to print (A4). Identifiers are masked; those who may reveal them print the
    full numbers through an audited POST, as on the student page."""
    user = request.user
    case, form = _dropout_form(user, pk)
    can_reveal = org_selectors.can_reveal_id(user, case.student)
    revealed = request.method == "POST" and can_reveal
    if request.method == "POST" and not can_reveal:
        raise Http404("没有找到该个案")
    if revealed:
        audit_record(actor=user, action=Action.REVEAL, obj=form, scope_from=case.student,
                     object_repr=f"{case.student.name} 一生一表", note="打印一生一表（含完整证件号）")
    return render(request, "cases/form_print.html", {
        "case": case, "form": form, "d": _form_data(user, case, form, full_ids=revealed), "revealed": revealed,
        "can_reveal": can_reveal, "can_edit": selectors.can_manage_case(user, case),
    })


@login_required
def form_docx_download(request, pk):
    """The 一生一表 as an editable Word file; full ID numbers (audited) only for those who may
    reveal them."""
    user = request.user
    case, form = _dropout_form(user, pk)
    full_ids = org_selectors.can_reveal_id(user, case.student)
    content = form_docx(_form_data(user, case, form, full_ids=full_ids))
    audit_record(actor=user, action=Action.EXPORT, obj=form, scope_from=case.student,
                 object_repr=f"{case.student.name} 一生一表",
                 note="下载一生一表 Word" + ("（含完整证件号）" if full_ids else "（证件号已遮盖）"))
    response = HttpResponse(content, content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    filename = f"一生一表-{case.student.name}.docx"
    response["Content-Disposition"] = f"attachment; filename=\"form.docx\"; filename*=UTF-8''{quote(filename)}"
    response["Cache-Control"] = "no-store"
    return response


@never_cache
@login_required
def form_edit(request, pk):
    user = request.user
    case, form = _dropout_form(user, pk)
    if not selectors.can_manage_case(user, case):
        raise Http404("没有找到该个案")
    edit = DropoutFormEditForm(request.POST or None, initial={k: form.data.get(k, "") for k, _ in EDITABLE_FIELDS})
    if request.method == "POST" and edit.is_valid():
        if apply_service(edit, lambda: services.dropout_form_update(actor=user, form=form, data=edit.cleaned_data)):
            messages.success(request, "已保存一生一表")
            return redirect("case_form", pk=case.pk)
    return render(request, "cases/form_edit.html", {"case": case, "edit": edit})


# ---------------------------------------------------------------- ledgers

LEDGERS = {
    "suspected": {"title": "疑似辍学学生台账", "pick": ledgers.suspected_ledger, "headers": ledgers.SUSPECTED_HEADERS,
                  "rows": ledgers.suspected_rows, "template": "cases/ledger_suspected.html"},
    "dropout": {"title": "辍学学生劝返台账", "pick": ledgers.dropout_ledger, "headers": ledgers.DROPOUT_HEADERS,
                "rows": ledgers.dropout_rows, "template": "cases/ledger_dropout.html"},
}


def _ledger(request, kind: str):
    user = request.user
    if not selectors.can_see_ledgers(user):
        raise Http404("没有找到该页面")
    ledger = LEDGERS[kind]["pick"](selectors.cases_for_user(user))
    form = LedgerFilterForm(request.GET or None, cases=ledger, kind=kind)
    return form, form.filter(ledger)


def _ledger_counts(kind: str, cases, today) -> list[tuple[str, int, bool]]:
    """(label, n, is_bad) for the top of the page."""
    total = cases.count()
    open_ = cases.filter(is_open=True)
    if kind == "suspected":
        running = selectors.with_clocks(
            selectors.with_attempt_counts(open_.filter(stage=Stage.SUSPECTED_DROPOUT).select_related("rules")), today)
        return [
            ("台账人数", total, False),
            ("疑似辍学劝返中", len(running), False),
            ("已转入辍学台账", cases.filter(stage=Stage.DROPOUT).count(), False),
            ("已返校销账", cases.filter(is_open=False, outcome="returned").count(), False),
            ("劝返不足", sum(1 for c in running if c.clock.short), True),
            ("逾期", sum(1 for c in running if c.clock.overdue), True),
        ]
    return [
        ("台账人数", total, False),
        ("劝返中", open_.count(), False),
        ("已复学", cases.filter(is_open=False, outcome="resumed").count(), False),
        ("其他结果销账", cases.filter(is_open=False).exclude(outcome="resumed").count(), False),
        ("失踪失联", cases.filter(dropout_cause="missing").count(), False),
    ]


@never_cache
@login_required
def ledger_page(request, kind):
    form, cases = _ledger(request, kind)
    today = timezone.localdate()
    page = Paginator(ledgers.with_ledger_data(cases), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = selectors.with_clocks(page.object_list, today)
    for n, case in enumerate(rows, start=page.start_index()):
        case.n = n
        case.persuaders_text = ledgers.persuaders_text(case)
        case.state_text = ledgers.state_text(case)
        case.result_text = ledgers.result_text(case)
        case.report_map = {r.recipient: r for r in case.reports.all()}
        attempts = list(case.attempts.all())
        case.total_attempts = len(attempts)
        case.last_attempt = attempts[-1] if attempts else None
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, LEDGERS[kind]["template"], {
        "kind": kind, "title": LEDGERS[kind]["title"], "form": form, "page": page, "rows": rows,
        "query": query.urlencode(), "counts": _ledger_counts(kind, cases, today), "today": today,
    })


@login_required
def ledger_export(request, kind):
    """The ledger as .xlsx, same filters and scope, with exactly the columns of the domain page.
    ID numbers in full only when the user may reveal every one of them (logged like a reveal)."""
    user = request.user
    _, cases = _ledger(request, kind)
    students = list(Student.objects.filter(pk__in=cases.values("student_id")).select_related("school_class", "school"))
    # The access rules look only at a student's county, school and class: one check per class.
    samples = list({(s.county_id, s.school_id, s.school_class_id): s for s in students}.values())
    full_ids = bool(samples) and all(org_selectors.can_reveal_id(user, s) for s in samples)
    # A ledger is a list: phones in full only for one's own class and mentees (a call is made
    # from the case's page, where they are shown to everyone working the case).
    full_phones = org_selectors.callable_student_ids(user)
    spec = LEDGERS[kind]
    rows = spec["rows"](cases, full_ids=full_ids, full_phones=full_phones)
    schools = {s.school_id: s.school for s in students}
    unit = next(iter(schools.values())).name if len(schools) == 1 else (
        County.objects.filter(pk__in={s.county_id for s in students}).values_list("name", flat=True).first() or "")
    content = ledgers.ledger_xlsx(spec["title"], spec["headers"], rows, unit=unit)
    school_ids = {s.school_id for s in students}
    county_ids = {s.county_id for s in students}
    if len(school_ids) == 1:
        scope = students[0].school
    elif len(county_ids) == 1:
        # A county-wide export has no single object: give audit_record one carrying the county.
        scope = types.SimpleNamespace(county_id=county_ids.pop())
    else:
        scope = None
    audit_record(actor=user, action=Action.EXPORT, object_type="case", object_repr=spec["title"], scope_from=scope,
                 note=f"导出{spec['title']} {len(rows)} 条" + ("（含完整证件号）" if full_ids else "（证件号已遮盖）"))
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return xlsx_response(content, f"{spec['title']}-{stamp}.xlsx")


# ---------------------------------------------------------------- the county's 13510 rules

def _rule_counties(user) -> list[County]:
    if org_selectors.is_admin(user):
        return list(County.objects.order_by("code"))
    ids = {m.county_id for m in org_selectors.memberships(user) if m.county_id}
    return list(County.objects.filter(pk__in=ids).order_by("code"))


@never_cache
@login_required
def rules(request):
    """13510 规则: the county bureau sets the days, the working days and the attempts. A change
    applies to cases opened from then on; open cases keep the rules they were opened under."""
    user = request.user
    counties = _rule_counties(user)
    if not counties:
        raise Http404("没有找到该页面")
    county = next((c for c in counties if str(c.pk) == request.GET.get("county", "")), counties[0])
    versions = list(Rules.objects.filter(county=county).select_related("created_by").order_by("-id"))
    current = versions[0] if versions else Rules(county=county)
    can_change = selectors.can_change_rules(user, county)
    form = None
    if can_change:
        initial = {f: getattr(current, f) for f in RulesForm.base_fields}
        form = RulesForm(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            if apply_service(form, lambda: services.rules_change(actor=user, county=county, **form.cleaned_data)):
                messages.success(request, "已保存新规则：此后新开的个案按新规则办理，未销账的个案仍按原规则")
                return redirect(reverse("cases_rules") + f"?county={county.pk}")
    elif request.method == "POST":
        raise Http404("没有找到该页面")
    open_by_rules = dict(Case.objects.filter(county=county, is_open=True).values_list("rules_id").annotate(n=Count("pk")))
    return render(request, "cases/rules.html", {
        "county": county, "counties": counties, "current": current, "versions": versions, "form": form,
        "can_change": can_change, "open_current": open_by_rules.get(current.pk, 0) if current.pk else 0,
        "open_older": sum(n for rid, n in open_by_rules.items() if rid != current.pk),
    })


@login_required
def index(request):
    return redirect("cases_inbox")

