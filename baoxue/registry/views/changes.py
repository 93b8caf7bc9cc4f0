"""Pages of the 学籍异动 register and the term review (学期学籍梳理).

Reads go through `baoxue.registry.changes` (outside the user's schools is a 404), writes through
the services (which check the rules and write the audit rows); a service's ValidationError is
shown on the form it came from.
"""

import datetime
import io
import types
from pathlib import Path

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from baoxue.audit.models import Action
from baoxue.audit.services import audit_record
from baoxue.calendar import workdays
from baoxue.org import selectors as org_selectors
from baoxue.org.forms import DateInput
from baoxue.org.models import School, Term
from baoxue.registry import changes, review, suspensions
from baoxue.registry.models import ChangeType, RegistryChange, TermReview
from baoxue.web import apply_service, xlsx_response

PAGE_SIZE = 50
UPLOAD_TYPES = {".jpg", ".jpeg", ".png", ".gif", ".webp", ".heic", ".pdf", ".doc", ".docx"}
SCREENSHOT_TYPES = {".jpg", ".jpeg", ".png", ".gif", ".webp", ".heic", ".pdf"}
UPLOAD_MAX_MB = 10


def _upload(upload, types_: set[str]):
    if not upload:
        return upload
    if Path(upload.name).suffix.lower() not in types_:
        raise forms.ValidationError("只能上传 " + "、".join(sorted(t.lstrip(".") for t in types_)) + " 文件")
    if upload.size > UPLOAD_MAX_MB * 1024 * 1024:
        raise forms.ValidationError(f"文件不能超过 {UPLOAD_MAX_MB} MB")
    return upload


# ---------------------------------------------------------------- forms

class ChangeForm(forms.Form):
    """The shape of a 学籍异动; the rules (no transfer while suspended …) live in the service."""

    change_type = forms.ChoiceField(label="异动类型", choices=[("", "请选择")] + [
        c for c in ChangeType.choices if c[0] != ChangeType.EXPIRE])
    date = forms.DateField(label="异动日期", widget=DateInput())
    reason = forms.CharField(label="原因", max_length=300, widget=forms.Textarea(attrs={"rows": 2}),
                             help_text="如：随父母务工迁往外省；因病休学（病名）；国网复学已审核……")
    scope = forms.ChoiceField(label="转学范围", required=False, widget=forms.RadioSelect,
                              choices=list(RegistryChange.Scope.choices))
    other_school = forms.CharField(label="对方学校", required=False, max_length=100,
                                   help_text="转出填转入学校，转入填原学校")
    documents = forms.FileField(label="材料", required=False,
                                help_text="申请书、诊断证明、转学联系函等（照片、PDF 或 Word，10 MB 以内）")

    def clean_documents(self):
        return _upload(self.cleaned_data.get("documents"), UPLOAD_TYPES)


class DoneForm(forms.Form):
    done_on = forms.DateField(label="办结日期", widget=DateInput())
    screenshot = forms.FileField(label="办结截图", required=False)

    def __init__(self, *args, system: str, change: RegistryChange, **kwargs):
        kwargs.setdefault("prefix", system)
        super().__init__(*args, **kwargs)
        self.system = system
        self.fields["done_on"].initial = timezone.localdate()
        if change.change_type in changes.RESUMPTIONS and system == "national":
            self.fields["screenshot"].label = "国网复学成功截图"
            self.fields["screenshot"].required = True
            self.fields["screenshot"].help_text = "省网办理复学时要附上这张截图"

    def clean_screenshot(self):
        return _upload(self.cleaned_data.get("screenshot"), SCREENSHOT_TYPES)


class CancelForm(forms.Form):
    reason = forms.CharField(label="撤销原因", max_length=200,
                             help_text="如：登记错误；对方学校未接收，学生仍应在本校就读")


PROCESSING_CHOICES = [("", "全部")] + [(k, label) for k, (label, _) in changes.PROCESSING_FILTERS.items()] + [
    ("overdue", "转学逾期未办结")]


class ChangeFilterForm(forms.Form):
    school = forms.ChoiceField(label="学校", required=False)
    change_type = forms.ChoiceField(label="异动类型", required=False, choices=[("", "全部")] + list(ChangeType.choices))
    processing = forms.ChoiceField(label="办理状态", required=False, choices=PROCESSING_CHOICES)
    start = forms.DateField(label="异动日期从", required=False, widget=DateInput())
    end = forms.DateField(label="到", required=False, widget=DateInput())
    q = forms.CharField(label="学生姓名", required=False, max_length=50)

    def __init__(self, *args, schools: list[School], **kwargs):
        super().__init__(*args, **kwargs)
        self.many_schools = len(schools) > 1
        self.fields["school"].choices = [("", "全部")] + [(s.code, s.name) for s in schools]

    @property
    def is_filtered(self) -> bool:
        return self.is_bound and self.is_valid() and any(self.cleaned_data.values())

    def filter(self, qs, today: datetime.date):
        if not self.is_bound or not self.is_valid():
            return qs
        d = self.cleaned_data
        if d["school"]:
            qs = qs.filter(school__code=d["school"])
        if d["change_type"]:
            qs = qs.filter(change_type=d["change_type"])
        if d["processing"] == "overdue":
            qs = qs.filter(changes.overdue_q(today))
        elif d["processing"]:
            qs = qs.filter(changes.PROCESSING_FILTERS[d["processing"]][1])
        if d["start"]:
            qs = qs.filter(date__gte=d["start"])
        if d["end"]:
            qs = qs.filter(date__lte=d["end"])
        if d["q"]:
            qs = qs.filter(Q(student__name__contains=d["q"].strip()) | Q(student__name_initials__startswith=d["q"].strip().lower()))
        return qs


# ---------------------------------------------------------------- helpers

def _register(request):
    """The user's schools, the filter form and the filtered changes; 404 for anyone who reads no
    school's register."""
    user = request.user
    schools = changes.change_schools(user)
    if not schools:
        raise Http404("没有找到该页面")
    form = ChangeFilterForm(request.GET or None, schools=schools)
    qs = changes.changes_for_user(user).select_related("student__school_class__grade", "school", "handled_by")
    return schools, form, form.filter(qs, timezone.localdate())


def _days_left(change: RegistryChange, today: datetime.date) -> dict | None:
    """What a transfer's deadline says today: working days left, or overdue, or done."""
    if not change.due_on:
        return None
    done = bool(change.national_done_on and change.provincial_done_on)
    info = {"due_on": change.due_on, "done": done, "overdue": not done and change.due_on < today, "left": None,
            "error": ""}
    if not done and not info["overdue"]:
        try:
            info["left"] = workdays.working_days_left(today, change.due_on)
        except workdays.CalendarMissing as e:
            info["error"] = str(e)
    return info


def _scope_for_audit(rows: list[RegistryChange]):
    schools = {c.school_id for c in rows}
    counties = {c.county_id for c in rows}
    if len(schools) == 1:
        return rows[0].school
    if len(counties) == 1:
        return types.SimpleNamespace(county_id=counties.pop())
    return None


# ---------------------------------------------------------------- register

@never_cache
@login_required
def change_list(request):
    """学籍异动登记簿: the school's changes with filters, counts at the top and an export."""
    user = request.user
    today = timezone.localdate()
    schools, form, qs = _register(request)
    total = qs.count()
    by_type = dict(qs.order_by().values_list("change_type").annotate(n=Count("id")))
    counts = [
        ("条异动", total, False),
        *((f"{t.label}", by_type[t.value], False) for t in ChangeType if by_type.get(t.value)),
        ("国网未办结", qs.filter(national_done_on__isnull=True).count(), True),
        ("省网未办结", qs.filter(provincial_done_on__isnull=True).count(), True),
        ("转学逾期未办结", qs.filter(changes.overdue_q(today)).count(), True),
    ]
    page = Paginator(qs.order_by("-date", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    for n, c in enumerate(rows, start=page.start_index()):
        c.n = n
        c.deadline = _days_left(c, today)
        c.before_label, c.after_label = changes.status_label(c.status_before), changes.status_label(c.status_after)
    query = request.GET.copy()
    query.pop("page", None)
    can_record = any(org_selectors.can_import_for_school(user, s) for s in schools)
    return render(request, "registry/change_list.html", {
        "form": form, "page": page, "rows": rows, "counts": counts, "query": query.urlencode(), "today": today,
        "can_record": can_record, "schools": schools,
    })


@login_required
def change_export(request):
    """The register as .xlsx, same filters and scope; the export is logged."""
    user = request.user
    _, _, qs = _register(request)
    rows = list(qs.order_by("date", "id"))
    import xlsxwriter

    buf = io.BytesIO()
    # Cell text is data, never a formula or link: a name typed as "=..." must not run in Excel.
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    ws = wb.add_worksheet("学籍异动登记")
    head = wb.add_format({"bold": True, "bg_color": "#EEF2F6", "border": 1, "text_wrap": True, "valign": "vcenter"})
    cell = wb.add_format({"border": 1, "valign": "top", "text_wrap": True})
    headers = ["序号", "学校", "姓名", "班级", "异动类型", "异动日期", "原因", "转学范围", "对方学校", "原学籍状态",
               "新学籍状态", "办结期限", "国网办结日期", "省网办结日期", "经办人", "材料"]
    ws.write_row(0, 0, headers, head)
    for i, c in enumerate(rows, start=1):
        values = [
            i, c.school.name, c.student.name, c.student.class_label, c.get_change_type_display(), c.date.isoformat(),
            c.reason, c.get_scope_display() if c.scope else "", c.other_school, changes.status_label(c.status_before),
            changes.status_label(c.status_after), c.due_on.isoformat() if c.due_on else "",
            c.national_done_on.isoformat() if c.national_done_on else "未办结",
            c.provincial_done_on.isoformat() if c.provincial_done_on else "未办结",
            (c.handled_by.get_full_name() or c.handled_by.get_username()) if c.handled_by else "",
            "有" if c.documents else "",
        ]
        for col, v in enumerate(values):
            if isinstance(v, str):
                ws.write_string(i, col, v, cell)
            else:
                ws.write(i, col, v, cell)
    for col, width in enumerate([5, 18, 9, 12, 9, 11, 30, 8, 20, 10, 10, 11, 12, 12, 9, 6]):
        ws.set_column(col, col, width)
    ws.freeze_panes(1, 3)
    if rows:
        ws.autofilter(0, 0, len(rows), len(headers) - 1)
    wb.close()
    audit_record(actor=user, action=Action.EXPORT, object_type="registrychange", object_repr="学籍异动登记",
                 scope_from=_scope_for_audit(rows), note=f"导出学籍异动登记 {len(rows)} 条")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return xlsx_response(buf.getvalue(), f"学籍异动登记-{stamp}.xlsx")


@never_cache
@login_required
def change_new(request):
    """登记学籍异动 for one student (?student=<pk>); without one, a search to pick the student."""
    user = request.user
    pk = request.GET.get("student") or request.POST.get("student")
    if not pk:
        return _pick_student(request)
    student = org_selectors.get_student_for_user(user, pk)
    if not changes.can_record_change(user, student):
        raise Http404("没有找到该学生")
    if request.method == "POST":
        form = ChangeForm(request.POST, request.FILES)
        created: list[RegistryChange] = []
        if form.is_valid():
            d = form.cleaned_data
            if apply_service(form, lambda: created.append(changes.registry_change_record(
                    actor=user, student=student, change_type=d["change_type"], date=d["date"], reason=d["reason"],
                    scope=d["scope"], other_school=d["other_school"], documents=d["documents"]))):
                change = created[0]
                text = f"已登记 {student.name} 的{change.get_change_type_display()}"
                if change.status_before != change.status_after:
                    text += f"，学籍状态：{changes.status_label(change.status_before)} → " \
                            f"{changes.status_label(change.status_after)}"
                messages.success(request, text)
                return redirect("registry_change_detail", pk=change.pk)
    else:
        form = ChangeForm(initial={"date": timezone.localdate(), "change_type": request.GET.get("type", "")})
    history = list(student.registry_changes.select_related("handled_by").order_by("-date", "-id")[:20])
    allowed = [ChangeType(t).label for t, (starts, _) in changes.TRANSITIONS.items() if student.status in starts]
    return render(request, "registry/change_form.html", {
        "form": form, "student": student, "history": history, "allowed": allowed,
        "suspended": student.status == "suspended", "transfer_days": changes.TRANSFER_WORKING_DAYS,
        "held": suspensions.holding_application(student) if student.status == "suspended" else None,
    })


def _pick_student(request):
    user = request.user
    q = request.GET.get("q", "").strip()
    editable = [s for s in changes.change_schools(user) if org_selectors.can_import_for_school(user, s)]
    if not editable:
        raise Http404("没有找到该页面")
    found = None
    if q:
        found = list(org_selectors.search_students(user, q).filter(school__in=editable)
                     .select_related("school_class__grade", "school").order_by("name")[:30])
    return render(request, "registry/change_pick.html", {"q": q, "found": found})


@never_cache
@login_required
def change_detail(request, pk):
    change = changes.get_change_for_user(request.user, pk)
    return render(request, "registry/change_detail.html", _detail_context(request, change))


def _detail_context(request, change: RegistryChange, **bound) -> dict:
    user = request.user
    today = timezone.localdate()
    can_edit = changes.can_record_change(user, change.student)
    steps = []
    for system, name in changes.SYSTEMS.items():
        done_on = getattr(change, f"{system}_done_on")
        step = {"system": system, "name": name, "done_on": done_on,
                "screenshot": getattr(change, f"{system}_screenshot"), "form": None, "blocked": ""}
        if not done_on and can_edit:
            if (system == "provincial" and change.change_type in changes.RESUMPTIONS and not change.national_done_on):
                step["blocked"] = changes.RESUME_NATIONAL_FIRST
            else:
                step["form"] = bound.get(system) or DoneForm(system=system, change=change)
        steps.append(step)
    open_case = None
    if change.student.status != "in_school" or change.change_type in changes.TRANSFERS:
        from baoxue.cases.models import Case

        open_case = Case.objects.filter(student=change.student, is_open=True).first()
    may_cancel = can_edit and not change.cancelled_on and not change.national_done_on
    return {
        "change": change, "student": change.student, "steps": steps, "can_edit": can_edit, "today": today,
        "cancel_form": (bound.get("cancel") or CancelForm()) if may_cancel else None,
        "deadline": _days_left(change, today), "open_case": open_case,
        "before_label": changes.status_label(change.status_before), "after_label": changes.status_label(change.status_after),
        "documents_name": Path(change.documents.name).name if change.documents else "",
        "leaves": change.status_after in ("transferred_out", "deceased", "other_left"),
        "student_visible": org_selectors.students_for_user(user).filter(pk=change.student_id).exists(),
        "other_changes": list(changes.changes_for_user(user).filter(student=change.student).exclude(pk=change.pk)
                              .order_by("-date", "-id")[:20]),
    }


@never_cache
@login_required
@require_POST
def change_done(request, pk, system):
    """国网/省网 办结 of one change, with its screenshot."""
    user = request.user
    change = changes.get_change_for_user(user, pk)
    if system not in changes.SYSTEMS or not changes.can_record_change(user, change.student):
        raise Http404("没有找到该页面")
    form = DoneForm(request.POST, request.FILES, system=system, change=change)
    if form.is_valid() and apply_service(form, lambda: changes.registry_change_mark_done(
            actor=user, change=change, system=system, done_on=form.cleaned_data["done_on"],
            screenshot=form.cleaned_data["screenshot"])):
        messages.success(request, f"已登记{changes.SYSTEMS[system]}办结")
        return redirect("registry_change_detail", pk=change.pk)
    change.refresh_from_db()
    return render(request, "registry/change_detail.html", _detail_context(request, change, **{system: form}),
                  status=400)


@never_cache
@login_required
@require_POST
def change_cancel(request, pk):
    """撤销 a change that did not happen; a 13510 case that waited for it counts the days again."""
    user = request.user
    change = changes.get_change_for_user(user, pk)
    if not changes.can_record_change(user, change.student):
        raise Http404("没有找到该页面")
    form = CancelForm(request.POST)
    if form.is_valid() and apply_service(form, lambda: changes.registry_change_cancel(
            actor=user, change=change, reason=form.cleaned_data["reason"])):
        messages.success(request, "已撤销该异动，学籍状态已恢复")
        return redirect("registry_change_detail", pk=change.pk)
    change.refresh_from_db()
    return render(request, "registry/change_detail.html", _detail_context(request, change, cancel=form), status=400)


@login_required
def change_file(request, pk, kind):
    """材料 or a screenshot of one change, only to those who read the change."""
    change = changes.get_change_for_user(request.user, pk)
    field = {"documents": "documents", "national": "national_screenshot",
             "provincial": "provincial_screenshot"}.get(kind)
    if field is None or not getattr(change, field):
        raise Http404("没有找到该文件")
    f = getattr(change, field)
    name = Path(f.name).name
    inline = Path(name).suffix.lower() in {".jpg", ".jpeg", ".png", ".gif", ".webp", ".pdf"}
    try:
        handle = f.open("rb")
    except FileNotFoundError:
        raise Http404("文件已不存在")
    response = FileResponse(handle, as_attachment=not inline, filename=name)
    response["Cache-Control"] = "no-store"
    return response


# ---------------------------------------------------------------- term review

def _review_target(request) -> tuple[list[School], School, list[Term], Term | None]:
    schools = changes.change_schools(request.user)
    if not schools:
        raise Http404("没有找到该页面")
    code = request.GET.get("school")
    school = next((s for s in schools if s.code == code), None) if code else schools[0]
    if school is None:
        raise Http404("没有找到该学校")
    terms = list(Term.objects.filter(school=school).order_by("-start"))
    # A term of another school (the school was switched in the same form) falls back to the
    # current term of the chosen school.
    term_pk = request.GET.get("term", "")
    term = next((t for t in terms if str(t.pk) == term_pk), None) or review.current_term(school)
    return schools, school, terms, term


@never_cache
@login_required
def review_page(request):
    """学期学籍梳理 of the current term (or ?term=): deadline, reminder, the lists, sign-offs."""
    user = request.user
    today = timezone.localdate()
    schools, school, terms, term = _review_target(request)
    ctx = {"schools": schools, "school": school, "terms": terms, "term": term, "today": today,
           "many_schools": len(schools) > 1}
    if term is None:
        return render(request, "registry/review_page.html", ctx)
    try:
        obj = review.review_build(school=school, term=term)
    except workdays.CalendarMissing as e:
        ctx["calendar_error"] = str(e)
        return render(request, "registry/review_page.html", ctx)
    signed_both = bool(obj.office_signed_at and obj.principal_signed_at)
    reminder_on = obj.due_on - datetime.timedelta(days=review.REMINDER_DAYS)
    ctx.update({
        "review": obj, "s": obj.summary, "counts": obj.summary.get("counts", {}),
        "reminder_on": reminder_on, "days_to_due": (obj.due_on - today).days,
        "remind": not signed_both and reminder_on <= today <= obj.due_on,
        "late": not signed_both and today > obj.due_on,
        "signed_both": signed_both, "frozen": review.is_signed(obj),
        "signers": [
            {"role": role, "title": title, "by": getattr(obj, by_field), "at": getattr(obj, at_field),
             "can": (getattr(obj, at_field) is None and review.can_sign(user, obj, role)
                     and getattr(obj, "principal_signed_by_id" if role == "office" else "office_signed_by_id")
                     != user.pk)}
            for role, (_, title, by_field, at_field) in review.SIGNERS.items()
        ],
    })
    return render(request, "registry/review_page.html", ctx)


def _review_for_user(user, pk) -> TermReview:
    schools = changes.change_schools(user)
    try:
        return TermReview.objects.select_related("school", "term", "office_signed_by", "principal_signed_by").get(
            pk=pk, school__in=[s.pk for s in schools])
    except (TermReview.DoesNotExist, ValueError):
        raise Http404("没有找到该学期学籍梳理")


@login_required
@require_POST
def review_sign(request, pk):
    user = request.user
    obj = _review_for_user(user, pk)
    role = request.POST.get("as_role", "")
    url = reverse("registry_review") + f"?school={obj.school.code}&term={obj.term_id}"
    try:
        review.review_sign(actor=user, review=obj, as_role=role)
    except ValidationError as e:
        messages.error(request, "；".join(e.messages))
        return redirect(url)
    messages.success(request, f"已以{review.SIGNERS[role][1]}身份签字")
    return redirect(url)


@login_required
def review_export(request, pk):
    user = request.user
    obj = _review_for_user(user, pk)
    content = review.review_xlsx(obj)
    audit_record(actor=user, action=Action.EXPORT, obj=obj, object_repr=f"{obj.school.name} {obj.term.name} 学期学籍梳理",
                 note="导出学期学籍梳理")
    return xlsx_response(content, f"学期学籍梳理-{obj.school.name}-{obj.term.name}.xlsx")
