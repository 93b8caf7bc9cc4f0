"""Pages of the on-site check (现场核查): the office's list and progress, and the head teacher's
phone page that confirms a class.

Access goes through `baoxue.registry.onsite` (outside the user's scope is a 404), writes through
its services (which write the audit rows). The forms here check input only.
"""

import datetime

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import F
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from baoxue.attendance.services import roll_call_students
from baoxue.calendar import workdays
from baoxue.org import selectors
from baoxue.org.models import Role, School, Term
from baoxue.registry import onsite
from baoxue.registry.models import OnsiteCheck, OnsiteResult
from baoxue.web import apply_service

# Empty rows of the "添加名单外在校学生" block.
ADDED_ROWS = 3
MAX_ADDED_ROWS = 60
SHORT_LABELS = {OnsiteResult.PRESENT: "在校", OnsiteResult.ABSENT: "未到校", OnsiteResult.NOT_IN_CLASS: "不在本班"}
# The roll call's colours: green for present, red for an absence, blue for elsewhere.
STYLE = {OnsiteResult.PRESENT: "rc-present", OnsiteResult.ABSENT: "rc-truant", OnsiteResult.NOT_IN_CLASS: "rc-late"}


# ---------------------------------------------------------------- forms

class OpenForm(forms.Form):
    school = forms.ModelChoiceField(label="学校", queryset=School.objects.none(), empty_label=None)
    term = forms.ModelChoiceField(label="学期", queryset=Term.objects.none(), empty_label=None)
    date = forms.DateField(label="核查日期", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                           help_text="在校日；班主任从这一天起在手机上逐人确认")

    def __init__(self, *args, schools: list[School], **kwargs):
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.fields["school"].queryset = School.objects.filter(pk__in=[s.pk for s in schools])
        terms = Term.objects.filter(school__in=schools).select_related("school").order_by("school__code", "-start")
        self.fields["term"].queryset = terms
        many = len(schools) > 1
        self.fields["term"].label_from_instance = (
            lambda t: f"{t.school.name} {t.name}（{t.start:%Y.%m.%d}–{t.end:%Y.%m.%d}）" if many
            else f"{t.name}（{t.start:%Y.%m.%d}–{t.end:%Y.%m.%d}）")
        if not many:
            self.fields["school"].widget = forms.HiddenInput()
            self.fields["school"].initial = schools[0].pk
        current = next((t for t in terms if t.start <= today <= t.end), None) or next(iter(terms), None)
        self.fields["term"].initial = current.pk if current else None
        self.fields["date"].initial = today

    def clean(self):
        data = super().clean()
        if data.get("school") and data.get("term") and data["term"].school_id != data["school"].pk:
            self.add_error("term", "学期不属于该学校")
        return data


class CloseForm(forms.Form):
    on = forms.DateField(label="结束日期", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))


class ConfirmRow:
    """One student of the class: three radio buttons drawn as tap targets, the reason box and
    the 有正当原因 box (shown by the stylesheet only where they apply)."""

    def __init__(self, form, student):
        self.student = student
        self.result = form[f"m_{student.pk}"]
        self.reason = form[f"r_{student.pk}"]
        self.valid = form[f"v_{student.pk}"]

    def options(self):
        return [(radio, SHORT_LABELS[radio.data["value"]], radio.data["value"], STYLE[radio.data["value"]])
                for radio in self.result]

    @property
    def value(self) -> str:
        return self.result.value() or OnsiteResult.PRESENT

    @property
    def errors(self):
        return self.result.errors + self.reason.errors


class ConfirmForm(forms.Form):
    """Per student m_<pk> (result), r_<pk> (reason or where), v_<pk> (有正当原因); per added row
    a_name_<i>, a_id_<i>, a_note_<i>. Everyone is 在校 unless marked."""

    def __init__(self, *args, students, entries, added_rows: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.students = list(students)
        self.added_rows = added_rows
        initial = {e.student_id: e for e in entries if e.student_id}
        for s in self.students:
            e = initial.get(s.pk)
            self.fields[f"m_{s.pk}"] = forms.ChoiceField(
                label=s.name, choices=[(r, SHORT_LABELS[r]) for r in onsite.CONFIRM_RESULTS], required=False,
                initial=e.result if e else OnsiteResult.PRESENT, widget=forms.RadioSelect)
            self.fields[f"r_{s.pk}"] = forms.CharField(label="原因/去向", required=False, max_length=200,
                                                       initial=e.reason if e else "")
            self.fields[f"v_{s.pk}"] = forms.BooleanField(label="有正当原因", required=False,
                                                          initial=e.valid_reason if e else False)
        people = [e for e in entries if e.result == OnsiteResult.ADDED]
        for i in range(added_rows):
            e = people[i] if i < len(people) else None
            self.fields[f"a_name_{i}"] = forms.CharField(label="姓名", required=False, max_length=50,
                                                         initial=e.name if e else "")
            self.fields[f"a_id_{i}"] = forms.CharField(label="身份证件号", required=False, max_length=30,
                                                       initial=e.id_number if e else "")
            self.fields[f"a_note_{i}"] = forms.CharField(label="备注", required=False, max_length=200,
                                                         initial=e.reason if e else "")

    def rows(self) -> list[ConfirmRow]:
        return [ConfirmRow(self, s) for s in self.students]

    def added_fields(self):
        return [(self[f"a_name_{i}"], self[f"a_id_{i}"], self[f"a_note_{i}"]) for i in range(self.added_rows)]

    def results(self) -> dict[int, tuple[str, str, bool]]:
        """{student pk: (result, reason, valid reason)} of everyone not simply 在校."""
        out = {}
        for s in self.students:
            result = self.cleaned_data.get(f"m_{s.pk}") or OnsiteResult.PRESENT
            if result != OnsiteResult.PRESENT:
                out[s.pk] = (result, self.cleaned_data.get(f"r_{s.pk}") or "",
                             bool(self.cleaned_data.get(f"v_{s.pk}")) and result == OnsiteResult.ABSENT)
        return out

    def added(self) -> list[tuple[str, str, str]]:
        """The filled rows, in order; a row with nothing typed in is not a person. The row index
        is kept so that an error lands at its row."""
        rows = [(self.cleaned_data.get(f"a_name_{i}") or "", self.cleaned_data.get(f"a_id_{i}") or "",
                 self.cleaned_data.get(f"a_note_{i}") or "") for i in range(self.added_rows)]
        return [r if any(x.strip() for x in r) else None for r in rows]

    def count(self, result: str) -> int:
        return sum(1 for row in self.rows() if row.value == result)


# ---------------------------------------------------------------- helpers

def _day(d: datetime.date) -> str:
    return workdays.cn_date(d)


# ---------------------------------------------------------------- pages

@never_cache
@login_required
def check_list(request):
    """/registry/onsite/: the checks of the user's school(s) and, for the office and leaders, a
    new one; for head teachers, their classes in an open check."""
    user = request.user
    roles = selectors.roles_of(user)
    sees = bool(roles & {Role.ADMIN, Role.COUNTY, *selectors.WHOLE_SCHOOL_ROLES})
    if not sees and Role.HEAD_TEACHER not in roles:
        raise Http404("没有找到该页面")
    ctx: dict = {"mine": onsite.head_teacher_open_classes(user) if Role.HEAD_TEACHER in roles else [], "sees": sees}
    schools = [s for s in selectors.schools_for_user(user).order_by("code") if selectors.sees_whole_school(user, s)]
    running = [s for s in schools if onsite.may_run(user, s)]
    busy = set(OnsiteCheck.objects.filter(school__in=running, closed_on__isnull=True)
               .values_list("school_id", flat=True))
    runnable = [s for s in running if s.pk not in busy]
    ctx["busy"] = [s for s in running if s.pk in busy]
    if request.method == "POST":
        if not running:
            raise Http404("没有找到该页面")
        if not runnable:
            messages.error(request, "已有进行中的现场核查：请先结束它再开始新的核查。")
            return redirect("onsite_list")
    if runnable:
        form = OpenForm(request.POST or None, schools=runnable)
        if request.method == "POST" and form.is_valid():
            holder: dict = {}
            if apply_service(form, lambda: holder.update(check=onsite.onsite_open(
                    actor=user, school=form.cleaned_data["school"], term=form.cleaned_data["term"],
                    date=form.cleaned_data["date"]))):
                check = holder["check"]
                messages.success(request, f"已开始{check.school.name}现场核查（{_day(check.date)}）："
                                          f"请通知各班班主任在手机上逐人确认。")
                return redirect("onsite_detail", pk=check.pk)
        ctx["form"] = form
    checks = list(OnsiteCheck.objects.filter(school__in=schools).select_related("school", "term", "opened_by")
                  .order_by(F("closed_on").asc(nulls_first=True), "-date", "-id")[:200])
    summary = onsite.checks_summary(checks)
    ctx["checks"] = [{"check": c, **summary[c.pk]} for c in checks]
    ctx["many_schools"] = len(schools) > 1
    return render(request, "registry/onsite_list.html", ctx)


@never_cache
@login_required
def check_detail(request, pk):
    """/registry/onsite/<pk>/: progress per class, the absent, the not-in-class, the added."""
    user = request.user
    check = onsite.get_check_for_user(user, pk)
    if not selectors.sees_whole_school(user, check.school):
        raise Http404("没有找到该现场核查")
    rows = onsite.onsite_progress(check)
    for r in rows:
        r.can_open = onsite.may_confirm(user, r.school_class)
    lists = onsite.onsite_exceptions(check)
    absent_ids = [e.student_id for e in lists[OnsiteResult.ABSENT]]
    can_run = onsite.may_run(user, check.school)
    ctx = {
        "check": check, "rows": rows, "totals": onsite.progress_totals(rows), "today": timezone.localdate(),
        "absent": lists[OnsiteResult.ABSENT], "not_in_class": lists[OnsiteResult.NOT_IN_CLASS],
        "added": lists[OnsiteResult.ADDED], "in_13510": onsite.in_attendance(check, absent_ids),
        "date_label": _day(check.date),
        "close_form": CloseForm(initial={"on": timezone.localdate()}) if can_run and check.closed_on is None else None,
    }
    return render(request, "registry/onsite_detail.html", ctx)


@require_POST
@login_required
def check_close(request, pk):
    user = request.user
    check = onsite.get_check_for_user(user, pk)
    if not onsite.may_run(user, check.school):
        raise Http404("没有找到该现场核查")
    form = CloseForm(request.POST)
    if form.is_valid() and apply_service(form, lambda: onsite.onsite_close(actor=user, check=check,
                                                                           on=form.cleaned_data["on"])):
        messages.success(request, f"已结束现场核查（{_day(check.date)}）。核查结果用于人籍一致比对。")
    else:
        errors = [e for errs in form.errors.values() for e in errs]
        messages.error(request, "没有结束：" + "；".join(errors or ["请填写结束日期"]))
    return redirect("onsite_detail", pk=check.pk)


@never_cache
@login_required
def class_confirm(request, pk, class_pk):
    """/registry/onsite/<pk>/classes/<class_pk>/: the head teacher's phone page."""
    user = request.user
    check = onsite.get_check_for_user(user, pk)
    school_class = onsite.get_check_class_for_user(user, check, class_pk)
    today = timezone.localdate()
    can_confirm = onsite.may_confirm(user, school_class)
    if check.closed_on is not None:
        refusal = f"本次核查已于{workdays.cn_date(check.closed_on, weekday=False)}结束，结果只能查看。"
    elif check.date > today:
        refusal = f"核查日期是{_day(check.date)}，当天起才能确认。"
    elif not can_confirm:
        refusal = "只有本班班主任或控辍保学办公室可以确认，这里只能查看。"
    else:
        refusal = ""

    students = list(roll_call_students(school_class))
    entries = onsite.class_entries(check, school_class)
    existing_added = sum(1 for e in entries if e.result == OnsiteResult.ADDED)
    added_rows = existing_added + ADDED_ROWS
    if request.method == "POST":
        if refusal:
            messages.error(request, "没有提交：" + refusal)
            return redirect("onsite_class", pk=check.pk, class_pk=school_class.pk)
        try:
            added_rows = min(max(int(request.POST.get("added_rows", added_rows)), added_rows), MAX_ADDED_ROWS)
        except ValueError:
            pass
        form = ConfirmForm(request.POST, students=students, entries=entries, added_rows=added_rows)
        if form.is_valid():
            slots = form.added()
            people = [p for p in slots if p is not None]
            # Service errors name the i-th person typed in; map them back to the form's row.
            row_of = [i for i, p in enumerate(slots) if p is not None]
            holder: dict = {}

            def call():
                holder["done"] = onsite.onsite_confirm_class(actor=user, check=check, school_class=school_class,
                                                             results=form.results(), added=people)

            proxy = _RowErrors(form, row_of)
            if apply_service(proxy, call):
                messages.success(request, _summary(school_class, check, students, holder["done"]))
                return redirect("onsite_class", pk=check.pk, class_pk=school_class.pk)
        messages.error(request, "没有提交：请检查标红的行")
    else:
        form = ConfirmForm(students=students, entries=entries, added_rows=added_rows)

    confirmed_by = next((e.confirmed_by for e in entries if e.confirmed_by_id), None)
    unexcused = [e for e in entries if e.result == OnsiteResult.ABSENT and not e.valid_reason]
    ctx = {
        "check": check, "school_class": school_class, "school": check.school, "form": form, "rows": form.rows(),
        "added_fields": form.added_fields(), "added_rows": added_rows, "students": students,
        "entries": entries, "confirmed_at": max((e.confirmed_at for e in entries), default=None),
        "confirmed_by": confirmed_by, "refusal": refusal, "date_label": _day(check.date),
        "sees_school": selectors.sees_whole_school(user, check.school),
        "counts": {r: sum(1 for e in entries if e.result == r) for r in OnsiteResult.values},
        "unexcused": unexcused, "in_13510": onsite.in_attendance(check, [e.student_id for e in unexcused]),
        "absent_now": form.count(OnsiteResult.ABSENT), "elsewhere_now": form.count(OnsiteResult.NOT_IN_CLASS),
    }
    return render(request, "registry/onsite_class.html", ctx)


class _RowErrors:
    """Lets `apply_service` put the service's errors on the form: a_name_<i>/a_id_<i> of the
    i-th person typed in become the fields of the row that person came from."""

    def __init__(self, form, row_of: list[int]):
        self.form, self.row_of, self.fields = form, row_of, form.fields

    def add_error(self, field, errors):
        if field and field.startswith("a_"):
            head, _, index = field.rpartition("_")
            field = f"{head}_{self.row_of[int(index)]}"
        self.form.add_error(field, errors)


def _summary(school_class, check, students, done: onsite.Confirmation) -> str:
    absent = done.count(OnsiteResult.ABSENT)
    text = (f"已提交{school_class}现场核查：全班 {len(students)} 人，在校 {done.count(OnsiteResult.PRESENT)} 人，"
            f"未到校 {absent} 人")
    if absent:
        text += f"（无正当原因 {done.unexcused} 人）"
    text += f"，不在本班 {done.count(OnsiteResult.NOT_IN_CLASS)} 人"
    if done.count(OnsiteResult.ADDED):
        text += f"，名单外在校 {done.count(OnsiteResult.ADDED)} 人"
    text += "。"
    if done.recorded:
        text += f"{len(done.recorded)} 人已按“原因不明”记入{check.date.month}月{check.date.day}日考勤，进入13510流程。"
    elif done.unexcused and done.attendance_note:
        text += done.attendance_note
    return text
