"""Pages of 休学申请: the school's list with the next submission day, one application's page
(papers, the computation, what is missing, the bureau's decision, the 国网 steps, 复学, 续休, the
县残联 path), the prefilled 休学申请表 (.docx and print), the batch list and the county's rules.

Reads go through `suspensions.get_application_for_user` (anyone else gets a 404); each POST is one
step of `baoxue.registry.suspensions`, whose ValidationError is shown on the form it came from.
"""

import datetime

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from urllib.parse import quote

from baoxue.audit.models import Action
from baoxue.audit.services import audit_record
from baoxue.calendar import workdays
from baoxue.lib.uploads import ACCEPTED_LABEL
from baoxue.org import selectors as org_selectors
from baoxue.org.forms import DateInput
from baoxue.org.models import County, SchoolClass
from baoxue.registry import changes, suspension_form, suspensions
from baoxue.registry.models import Application, ApplicationFile, HospitalLevel, Material, SuspensionRules
from baoxue.web import apply_service, paper_response

St = Application.State
K = Application.Kind


# ---------------------------------------------------------------- forms

class DataForm(forms.Form):
    illness = forms.CharField(label="病名", max_length=100, required=False,
                              help_text="国网“休学原因”栏须注明因何病休学，如：急性淋巴细胞白血病")
    detail = forms.CharField(label="情况说明", max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2}))
    start_on = forms.DateField(label="休学开始日期", required=False, widget=DateInput(),
                               help_text="休学期限一年，期满日期按县里的规则自动计算")
    ends_on = forms.DateField(label="续休至", required=False, widget=DateInput())
    hospital = forms.CharField(label="诊断医院", max_length=100, required=False)
    hospital_level = forms.ChoiceField(label="医院级别", required=False,
                                       choices=[("", "请选择")] + list(HospitalLevel.choices))
    diagnosed_on = forms.DateField(label="诊断日期", required=False, widget=DateInput())
    rest_from = forms.DateField(label="住院或休息自", required=False, widget=DateInput())
    rest_to = forms.DateField(label="至", required=False, widget=DateInput())
    referred_on = forms.DateField(label="报县残联日期", required=False, widget=DateInput())

    def __init__(self, *args, app: Application, **kwargs):
        kwargs.setdefault("initial", {f: getattr(app, f) for f in suspensions.EDIT_FIELDS})
        kwargs.setdefault("prefix", "data")
        super().__init__(*args, **kwargs)
        if app.kind != K.EXTEND:
            del self.fields["ends_on"]
        else:
            del self.fields["start_on"]
        if app.kind != K.SUSPEND:
            del self.fields["rest_from"], self.fields["rest_to"]
        if app.kind == K.DISABILITY:
            for f in ("hospital", "hospital_level", "diagnosed_on", "start_on"):
                self.fields.pop(f, None)
            self.fields["illness"].label = "残疾类别及程度"
            self.fields["illness"].help_text = ""
        else:
            del self.fields["referred_on"]


class UploadForm(forms.Form):
    material = forms.ChoiceField(label="材料", choices=Material.choices, widget=forms.HiddenInput)
    upload = forms.FileField(label="选择文件", help_text=f"{ACCEPTED_LABEL}，扫描件或照片")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "up")
        super().__init__(*args, **kwargs)


class ReasonForm(forms.Form):
    reason = forms.CharField(label="撤回原因", max_length=200)


class DecideForm(forms.Form):
    decision = forms.ChoiceField(label="审批结果", widget=forms.RadioSelect,
                                 choices=[("approve", "批准"), ("reject", "退回学校修改")])
    comment = forms.CharField(label="审批意见", max_length=300, required=False,
                              help_text="退回须写明原因，学校据此修改后随下一批次再报")
    decided_on = forms.DateField(label="审批日期", widget=DateInput())
    approval = forms.FileField(label="教体局盖章审批表", required=False, help_text=f"纸质审批时必传：{ACCEPTED_LABEL}")

    def __init__(self, *args, on_paper: bool, **kwargs):
        kwargs.setdefault("prefix", "paper" if on_paper else "decide")
        kwargs.setdefault("initial", {"decided_on": timezone.localdate()})
        super().__init__(*args, **kwargs)
        if not on_paper:
            del self.fields["approval"]


class StepForm(forms.Form):
    step = forms.ChoiceField(choices=[(k, v[1]) for k, v in suspensions.NATIONAL_STEPS.items()], widget=forms.HiddenInput)
    done_on = forms.DateField(label="办理日期", widget=DateInput())


class ResumeForm(forms.Form):
    on = forms.DateField(label="复学日期", widget=DateInput())
    school_class = forms.ModelChoiceField(label="编入班级", queryset=SchoolClass.objects.none())
    note = forms.CharField(label="说明", max_length=200, required=False)

    def __init__(self, *args, app: Application, **kwargs):
        kwargs.setdefault("prefix", "resume")
        kwargs.setdefault("initial", {"on": timezone.localdate(), "school_class": app.student.school_class_id})
        super().__init__(*args, **kwargs)
        self.fields["school_class"].queryset = (SchoolClass.objects.filter(school_id=app.school_id)
                                                .select_related("grade").order_by("grade__order", "name"))


class AssessForm(forms.Form):
    referred_on = forms.DateField(label="报县残联日期", widget=DateInput())
    assessed_on = forms.DateField(label="专家委员会评估日期", widget=DateInput())
    assessment = forms.CharField(label="评估结论", max_length=300, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, app: Application, **kwargs):
        kwargs.setdefault("prefix", "assess")
        kwargs.setdefault("initial", {"referred_on": app.referred_on, "assessed_on": app.assessed_on,
                                      "assessment": app.assessment})
        super().__init__(*args, **kwargs)


class DisabilityDecideForm(forms.Form):
    outcome = forms.ChoiceField(label="决定", widget=forms.RadioSelect, choices=Application.Outcome.choices)
    start_on = forms.DateField(label="开始日期", widget=DateInput())
    ends_on = forms.DateField(label="期满日期", widget=DateInput())
    review_on = forms.DateField(label="复评日期", widget=DateInput(), help_text="到期前按县里的提醒天数提醒学籍管理员和班主任")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "dd")
        super().__init__(*args, **kwargs)


class RulesForm(forms.ModelForm):
    class Meta:
        model = SuspensionRules
        fields = ["rest_share_denominator", "min_bills", "term_months", "max_months", "remind_days",
                  "extend_lead_working_days"]


class StartForm(forms.Form):
    kind = forms.ChoiceField(label="申请类别", widget=forms.RadioSelect,
                             choices=[(K.SUSPEND, "因病休学（随每月20日批次报教体局审批）"),
                                      (K.DISABILITY, "残疾儿童延缓入学或休学（报县残联，专家委员会评估）")])
    illness = forms.CharField(label="病名或残疾情况", max_length=100, required=False)


# ---------------------------------------------------------------- list

def _schools(user):
    """Schools whose applications the user reads as a whole (office, clerk, leaders, bureau)."""
    return changes.change_schools(user)


@never_cache
@login_required
def application_list(request):
    """休学申请 of the user's schools (or of a head teacher's classes): the next submission day,
    what is in each state, and the reminders."""
    user = request.user
    today = timezone.localdate()
    qs = suspensions.applications_for_user(user)
    schools = _schools(user)
    if not schools and not qs.exists() and not org_selectors.classes_for_user(user).exists():
        raise Http404("没有找到该页面")
    code = request.GET.get("school", "")
    if code:
        qs = qs.filter(school__code=code)
    rows = list(qs.select_related("student__school_class__grade", "school", "extends").order_by("state", "-id")[:500])
    groups = []
    for state in (St.RETURNED, St.DRAFT, St.SUBMITTED, St.APPROVED, St.EFFECTIVE, St.EXPIRED, St.RESUMED, St.ENDED,
                  St.WITHDRAWN):
        items = [a for a in rows if a.state == state]
        if items:
            groups.append({"state": state, "label": St(state).label, "items": items})
    try:
        next_day = workdays.next_submission_day(today)
        calendar_error = ""
    except workdays.CalendarMissing as e:
        next_day, calendar_error = None, str(e)
    is_county = any(m.role == "county" for m in org_selectors.memberships(user)) or org_selectors.is_admin(user)
    batches = []
    if next_day:
        for s in schools:
            n = sum(1 for a in rows if a.school_id == s.pk and a.state == St.SUBMITTED and a.batch_day == next_day)
            batches.append({"school": s, "n": n})
    return render(request, "registry/suspension_list.html", {
        "groups": groups, "next_day": next_day, "calendar_error": calendar_error, "today": today,
        "schools": schools, "school_code": code, "is_county": is_county, "batches": batches,
        "reminders": suspensions.reminders(qs, today),
        "can_start": bool(schools) or org_selectors.classes_for_user(user).exists(),
    })


# ---------------------------------------------------------------- start

@never_cache
@login_required
def application_new(request):
    user = request.user
    pk = request.GET.get("student") or request.POST.get("student")
    if not pk:
        return _pick(request)
    student = org_selectors.get_student_for_user(user, pk)
    if not suspensions.can_apply(user, student):
        raise Http404("没有找到该学生")
    live = Application.objects.filter(student=student, state__in=suspensions.LIVE).first()
    if live:
        messages.info(request, f"该生已有一份{live.get_kind_display()}申请，请在原申请上继续")
        return redirect("suspension_detail", pk=live.pk)
    kind = request.GET.get("kind")
    form = StartForm(request.POST or None, initial={"kind": kind if kind in (K.SUSPEND, K.DISABILITY) else K.SUSPEND})
    created: list[Application] = []
    if request.method == "POST" and form.is_valid() and apply_service(form, lambda: created.append(
            suspensions.application_start(actor=user, student=student, kind=form.cleaned_data["kind"],
                                          illness=form.cleaned_data["illness"]))):
        return redirect("suspension_detail", pk=created[0].pk)
    return render(request, "registry/suspension_new.html", {"form": form, "student": student})


def _pick(request):
    user = request.user
    q = request.GET.get("q", "").strip()
    found = None
    if q:
        found = [s for s in org_selectors.search_students(user, q).select_related("school_class__grade", "school")
                 .order_by("name")[:30] if suspensions.can_apply(user, s)]
    return render(request, "registry/suspension_pick.html", {"q": q, "found": found})


# ---------------------------------------------------------------- one application

def _context(request, app: Application, **bound) -> dict:
    user = request.user
    today = timezone.localdate()
    rules = suspensions.current_rules(app.county_id)
    files = suspensions.current_files(app)
    old_files = list(app.files.filter(replaced_at__isnull=False).order_by("-id"))
    editable = app.state in suspensions.EDITABLE
    can_apply = suspensions.can_apply(user, app.student)
    can_process = suspensions.can_process(user, app)
    can_decide = suspensions.can_decide(user, app)
    share, calendar_error, next_day = None, "", None
    # `missing` names a missing calendar year as one of the gaps itself.
    gaps = suspensions.missing(app, rules, today=today) if editable and app.kind != K.DISABILITY else []
    try:
        if app.kind == K.SUSPEND:
            share = suspensions.rest_share(app, rules)
        next_day = workdays.next_submission_day(today)
    except workdays.CalendarMissing as e:
        calendar_error = str(e)
    materials = [{"material": m, "label": Material(m).label, "file": files.get(m),
                  "form": bound.get(f"up_{m}") or UploadForm(initial={"material": m}) if (editable and can_apply) else None}
                 for m in suspensions.MATERIALS[app.kind]]
    resume_materials = []
    if app.state in suspensions.HOLDING and can_process and app.kind != K.EXTEND:
        resume_materials = [{"material": m, "label": Material(m).label, "file": files.get(m),
                             "form": bound.get(f"up_{m}") or UploadForm(initial={"material": m})}
                            for m in suspensions.RESUME_MATERIALS]
    steps = []
    if app.kind != K.DISABILITY and app.state in (St.APPROVED, St.EFFECTIVE, St.RESUMED, St.EXPIRED, St.ENDED):
        for key, (field, label) in suspensions.NATIONAL_STEPS.items():
            done = getattr(app, field)
            steps.append({"key": key, "label": label, "done_on": done,
                          "form": (bound.get(f"step_{key}") or StepForm(prefix=f"step_{key}",
                                   initial={"step": key, "done_on": today}))
                          if not done and app.state == St.APPROVED and can_process else None})
    bills = list(app.bills.all())
    extension = app.extensions.exclude(state=St.WITHDRAWN).order_by("-id").first() if app.kind != K.EXTEND else None
    return {
        "app": app, "student": app.student, "rules": rules, "share": share, "gaps": gaps, "today": today,
        "calendar_error": calendar_error, "next_day": next_day, "materials": materials,
        "resume_materials": resume_materials, "old_files": old_files, "files": files,
        "editable": editable and can_apply, "can_process": can_process, "can_decide": can_decide,
        "data_form": bound.get("data") or (DataForm(app=app) if editable and can_apply else None),
        "bills": bills, "bill_rows": bills + [None] * max(3, 6 - len(bills)),
        "bills_total": sum((b.amount for b in bills), 0), "bills_error": bound.get("bills_error"),
        "submit_error": bound.get("submit_error"),
        "withdraw_form": bound.get("withdraw") or ReasonForm(),
        "decide_form": (bound.get("decide") or DecideForm(on_paper=False))
        if app.state == St.SUBMITTED and can_decide else None,
        "paper_form": (bound.get("paper") or DecideForm(on_paper=True))
        if app.state == St.SUBMITTED and can_process else None,
        "steps": steps,
        "resume_form": (bound.get("resume") or ResumeForm(app=app))
        if app.state in suspensions.HOLDING and can_process and app.kind != K.EXTEND else None,
        "assess_form": (bound.get("assess") or AssessForm(app=app)) if app.kind == K.DISABILITY and editable and can_process else None,
        "dd_form": (bound.get("dd") or DisabilityDecideForm()) if app.kind == K.DISABILITY and editable and can_process and app.assessed_on else None,
        "extension": extension,
        "can_extend": (app.state == St.EFFECTIVE and app.kind == K.SUSPEND and can_apply
                       and (extension is None or extension.state not in suspensions.LIVE)),
        "latest_end": suspensions.latest_end(app.extends or app, rules) if (app.extends or app).start_on else None,
        "student_visible": org_selectors.students_for_user(user).filter(pk=app.student_id).exists(),
        "accepted": ACCEPTED_LABEL,
    }


@never_cache
@login_required
def application_detail(request, pk):
    app = suspensions.get_application_for_user(request.user, pk)
    return render(request, "registry/suspension_detail.html", _context(request, app))


def _back(request, app, text):
    messages.success(request, text)
    return redirect("suspension_detail", pk=app.pk)


def _again(request, app, status=400, **bound):
    app = suspensions.get_application_for_user(request.user, app.pk)
    return render(request, "registry/suspension_detail.html", _context(request, app, **bound), status=status)


@never_cache
@login_required
@require_POST
def application_act(request, pk, action):
    """One step on the application page."""
    user = request.user
    app = suspensions.get_application_for_user(user, pk)
    can_apply, can_process = suspensions.can_apply(user, app.student), suspensions.can_process(user, app)
    handler = ACTIONS.get(action)
    if handler is None:
        raise Http404("没有找到该页面")
    allowed = {"apply": can_apply, "process": can_process, "decide": suspensions.can_decide(user, app)}[handler[0]]
    if not allowed:
        raise Http404("没有找到该页面")
    return handler[1](request, app)


def _data(request, app):
    form = DataForm(request.POST, app=app)
    if form.is_valid() and apply_service(form, lambda: suspensions.application_update(
            actor=request.user, app=app, **{k: v for k, v in form.cleaned_data.items()})):
        return _back(request, app, "已保存")
    return _again(request, app, data=form)


def _upload(request, app):
    form = UploadForm(request.POST, request.FILES)
    material = request.POST.get("up-material", "")
    if form.is_valid():
        try:
            suspensions.application_file_add(actor=request.user, app=app, material=form.cleaned_data["material"],
                                             upload=form.cleaned_data["upload"])
            return _back(request, app, f"已上传：{Material(form.cleaned_data['material']).label}")
        except ValidationError as e:
            form.add_error("upload", e.messages)
    return _again(request, app, **{f"up_{material}": form})


def _bills(request, app):
    items = list(zip(request.POST.getlist("item"), request.POST.getlist("amount")))
    try:
        total = suspensions.application_bills_set(actor=request.user, app=app, items=items)
    except ValidationError as e:
        return _again(request, app, bills_error=e.messages)
    return _back(request, app, f"已保存药费明细，合计 {total:,.2f} 元")


def _submit(request, app):
    try:
        app = suspensions.application_submit(actor=request.user, app=app)
    except ValidationError as e:
        return _again(request, app, submit_error=e.messages)
    return _back(request, app, f"已提交：随 {app.batch_day} 批次报县教体局")


def _withdraw(request, app):
    form = ReasonForm(request.POST)
    if form.is_valid() and apply_service(form, lambda: suspensions.application_withdraw(
            actor=request.user, app=app, reason=form.cleaned_data["reason"])):
        return _back(request, app, "已撤回该申请")
    return _again(request, app, withdraw=form)


def _decider(on_paper: bool):
    def act(request, app):
        form = DecideForm(request.POST, request.FILES, on_paper=on_paper)
        if form.is_valid():
            d = form.cleaned_data
            if apply_service(form, lambda: suspensions.application_decide(
                    actor=request.user, app=app, approve=d["decision"] == "approve", comment=d["comment"],
                    decided_on=d["decided_on"], on_paper=on_paper, approval=d.get("approval"))):
                return _back(request, app, "已批准" if d["decision"] == "approve" else "已退回学校修改")
        return _again(request, app, **{"paper" if on_paper else "decide": form})
    return act


def _step(request, app):
    key = request.POST.get("step", "")
    form = StepForm(request.POST, prefix=f"step_{key}")
    if form.is_valid() and apply_service(form, lambda: suspensions.application_national_step(
            actor=request.user, app=app, step=form.cleaned_data["step"], done_on=form.cleaned_data["done_on"])):
        app.refresh_from_db()
        text = "已登记国网办理"
        if app.state == St.EFFECTIVE:
            text += f"：{app.student.name} 自 {app.start_on} 起休学，已移出班级考勤"
        return _back(request, app, text)
    return _again(request, app, **{f"step_{key}": form})


def _resume(request, app):
    form = ResumeForm(request.POST, app=app)
    if form.is_valid():
        d = form.cleaned_data
        if apply_service(form, lambda: suspensions.resumption_record(
                actor=request.user, app=app, on=d["on"], school_class=d["school_class"], note=d["note"])):
            app.refresh_from_db()
            messages.success(request, f"{app.student.name} 已复学，编入 {d['school_class']}：请先在国网办理复学并上传成功截图，再办理省网")
            return redirect("registry_change_detail", pk=app.end_change_id)
    return _again(request, app, resume=form)


def _extend(request, app):
    try:
        ext = suspensions.application_start(actor=request.user, student=app.student, kind=K.EXTEND, extends=app)
    except ValidationError as e:
        messages.error(request, "；".join(e.messages))
        return redirect("suspension_detail", pk=app.pk)
    return _back(request, ext, "已新建续休申请：请上传新的诊断证明等材料，填写续休至哪天")


def _assess(request, app):
    form = AssessForm(request.POST, app=app)
    if form.is_valid() and apply_service(form, lambda: suspensions.disability_assess(
            actor=request.user, app=app, **form.cleaned_data)):
        return _back(request, app, "已登记县残联评估")
    return _again(request, app, assess=form)


def _disability_decide(request, app):
    form = DisabilityDecideForm(request.POST)
    if form.is_valid() and apply_service(form, lambda: suspensions.disability_decide(
            actor=request.user, app=app, **form.cleaned_data)):
        app.refresh_from_db()
        return _back(request, app, f"已登记县残联决定：{app.get_outcome_display()}，学籍状态已随之改变")
    return _again(request, app, dd=form)


ACTIONS = {
    "data": ("apply", _data), "upload": ("apply", _upload), "bills": ("apply", _bills), "submit": ("apply", _submit),
    "withdraw": ("apply", _withdraw), "decide": ("decide", _decider(False)), "paper": ("process", _decider(True)),
    "step": ("process", _step), "resume": ("process", _resume), "extend": ("apply", _extend),
    "assess": ("process", _assess), "disability": ("process", _disability_decide),
    "resume_upload": ("process", _upload),
}


# ---------------------------------------------------------------- files, form, batch

@login_required
def application_file(request, pk):
    """One paper, only to those who see the application; every view is in the audit log."""
    try:
        f = ApplicationFile.objects.select_related("application__student").get(pk=pk)
    except (ApplicationFile.DoesNotExist, ValueError):
        raise Http404("没有找到该文件")
    app = suspensions.get_application_for_user(request.user, f.application_id)
    return paper_response(request, f, student=app.student, label=f"{app}：{f.get_material_display()}")


@login_required
def application_form_docx(request, pk):
    app = suspensions.get_application_for_user(request.user, pk)
    full_ids = org_selectors.can_reveal_id(request.user, app.student)
    data = suspension_form.form_docx(app, full_ids=full_ids)
    audit_record(actor=request.user, action=Action.EXPORT, obj=app, scope_from=app.student,
                 note="下载休学申请表" + ("" if full_ids else "（学籍号已遮盖）"))
    response = HttpResponse(data, content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    name = f"{suspension_form.title(app)}-{app.student.name}.docx"
    response["Content-Disposition"] = f"attachment; filename=\"form.docx\"; filename*=UTF-8''{quote(name)}"
    response["Cache-Control"] = "no-store"
    return response


@never_cache
@login_required
def application_form_print(request, pk):
    app = suspensions.get_application_for_user(request.user, pk)
    return render(request, "registry/suspension_print.html", {
        "app": app, "title": suspension_form.title(app),
        "rows": suspension_form.form_rows(app, full_ids=org_selectors.can_reveal_id(request.user, app.student)),
        "signatures": suspension_form.SIGNATURES})


@never_cache
@login_required
def batch_print(request, code, day):
    """The batch a school takes to the bureau on a submission day (A4)."""
    school = org_selectors.get_school_for_user(request.user, code)
    if not org_selectors.sees_whole_school(request.user, school):
        raise Http404("没有找到该页面")
    try:
        batch_day = datetime.date.fromisoformat(day)
    except ValueError:
        raise Http404("没有找到该页面")
    items = list(Application.objects.filter(school=school, batch_day=batch_day)
                 .exclude(state__in=[St.WITHDRAWN]).select_related("student__school_class__grade")
                 .prefetch_related("bills").order_by("student__school_class__grade__order", "student__name"))
    for a in items:
        a.total = sum((b.amount for b in a.bills.all()), 0)
    return render(request, "registry/suspension_batch.html", {"school": school, "day": batch_day, "items": items})


@never_cache
@login_required
def rules_page(request):
    """The county's thresholds (one third, 1,000 yuan, one year …), set by the bureau."""
    user = request.user
    counties = [m.county for m in org_selectors.memberships(user) if m.role == "county"]
    if org_selectors.is_admin(user):
        counties = list(County.objects.order_by("code"))
    if not counties:
        raise Http404("没有找到该页面")
    county = next((c for c in counties if c.code == request.GET.get("county")), counties[0])
    current = suspensions.current_rules(county.pk)
    form = RulesForm(request.POST or None, instance=SuspensionRules(**{
        f: getattr(current, f) for f in RulesForm.Meta.fields}, county=county))
    if request.method == "POST" and form.is_valid() and apply_service(form, lambda: suspensions.rules_set(
            actor=user, county=county, **form.cleaned_data)):
        messages.success(request, "已保存休学规则")
        return redirect(f"{request.path}?county={county.code}")
    return render(request, "registry/suspension_rules.html", {"form": form, "county": county, "current": current})
