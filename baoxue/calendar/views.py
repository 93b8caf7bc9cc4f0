"""The calendar page: years entered and their warnings, entering next year's schedule,
terms and closures (停课)."""

import datetime

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from baoxue.calendar import selectors, services, workdays
from baoxue.calendar.models import Closure
from baoxue.org.models import Term
from baoxue.org.services import term_add


class YearForm(forms.Form):
    year = forms.IntegerField(label="年份", min_value=2000, max_value=2100)
    holidays = forms.CharField(
        label="放假安排", widget=forms.Textarea(attrs={"rows": 8}),
        help_text="每行一段：起止日期和名称，如“2027-10-01..2027-10-07 国庆节”；单日写“2027-01-01 元旦”",
    )
    workdays = forms.CharField(label="调休上班日", required=False, widget=forms.Textarea(attrs={"rows": 3}),
                               help_text="每行一个日期，如 2027-09-26")

    def clean(self):
        data = super().clean()
        year = data.get("year")
        holidays: dict[datetime.date, str] = {}
        try:
            for line in (data.get("holidays") or "").splitlines():
                line = line.strip()
                if not line:
                    continue
                span, _, name = line.partition(" ")
                first, _, last = span.partition("..")
                day, end = datetime.date.fromisoformat(first), datetime.date.fromisoformat(last or first)
                while day <= end:
                    holidays[day] = name.strip() or "节假日"
                    day += datetime.timedelta(days=1)
            extra = [datetime.date.fromisoformat(d.strip()) for d in (data.get("workdays") or "").split() if d.strip()]
        except ValueError as e:
            raise ValidationError(f"日期格式不对（{e}）：请写成 2027-10-01")
        if year and any(d.year != year for d in list(holidays) + extra):
            raise ValidationError(f"有日期不在 {year} 年")
        data["holiday_map"], data["workday_list"] = holidays, extra
        return data


class ClosureForm(forms.Form):
    school = forms.ModelChoiceField(label="学校", queryset=None, required=False, empty_label="全县停课")
    date = forms.DateField(label="日期", widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label="原因", max_length=100, help_text="如：暴雨停课、期中考试")

    def __init__(self, *args, schools, county_allowed: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"].queryset = schools
        self.fields["school"].required = not county_allowed


class TermForm(forms.Form):
    school = forms.ModelChoiceField(label="学校", queryset=None)
    name = forms.RegexField(label="学期", regex=r"^[0-9]{4}-[0-9]{4}-[12]$", help_text="如 2026-2027-1（1为秋季，2为春季）")
    start = forms.DateField(label="开学日期", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="结束日期", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, schools, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"].queryset = schools


def _context(request, **extra):
    user = request.user
    schools = selectors.closure_schools(user)
    editor = selectors.can_edit_calendar(user)
    if not editor and not schools.exists():
        raise Http404("没有权限")
    today = timezone.localdate()
    county_allowed = editor
    return {
        "editor": editor,
        "warnings": selectors.calendar_warnings(today) if editor else [],
        "years": selectors.years(),
        "closures": selectors.closures_for(schools, today - datetime.timedelta(days=60)),
        "terms": Term.objects.filter(school__in=schools).select_related("school").order_by("-start", "school__code")[:60],
        "year_form": YearForm(initial={"year": max([y.year for y in selectors.years()] or [today.year]) + 1}),
        "closure_form": ClosureForm(schools=schools, county_allowed=county_allowed),
        "term_form": TermForm(schools=schools),
        "today_text": workdays.cn_date(today) if today.year in workdays.known_years() else str(today),
        **extra,
    }


@login_required
def calendar_home(request):
    return render(request, "calendar/home.html", _context(request))


@login_required
@require_POST
def year_set(request):
    if not selectors.can_edit_calendar(request.user):
        raise Http404()
    form = YearForm(request.POST)
    if not form.is_valid():
        return render(request, "calendar/home.html", _context(request, year_form=form))
    services.calendar_year_set(actor=request.user, year=form.cleaned_data["year"],
                               holidays=form.cleaned_data["holiday_map"], workdays=form.cleaned_data["workday_list"])
    messages.success(request, f"已录入 {form.cleaned_data['year']} 年工作日历。")
    return redirect("calendar_home")


@login_required
@require_POST
def closure_add(request):
    schools = selectors.closure_schools(request.user)
    editor = selectors.can_edit_calendar(request.user)
    form = ClosureForm(request.POST, schools=schools, county_allowed=editor)
    if not form.is_valid():
        return render(request, "calendar/home.html", _context(request, closure_form=form))
    school = form.cleaned_data["school"]
    county = None if school else next((m.county for m in selectors.memberships(request.user) if m.role == "county"), None)
    if school is None and county is None:
        messages.error(request, "请选择学校。")
        return redirect("calendar_home")
    try:
        services.closure_add(actor=request.user, date=form.cleaned_data["date"], reason=form.cleaned_data["reason"],
                             school=school, county=county)
    except IntegrityError:
        messages.error(request, "该日已登记停课。")
        return redirect("calendar_home")
    messages.success(request, f"已登记停课：{form.cleaned_data['date']} {form.cleaned_data['reason']}")
    return redirect("calendar_home")


@login_required
@require_POST
def closure_remove(request, pk):
    """A closure entered by mistake: the day is a school day again (13510 counts it again)."""
    closure = get_object_or_404(Closure, pk=pk)
    editor = selectors.can_edit_calendar(request.user)
    own = closure.school_id is not None and selectors.closure_schools(request.user).filter(pk=closure.school_id).exists()
    county = closure.school_id is None and editor and (
        selectors.is_admin(request.user)
        or any(m.role == "county" and m.county_id == closure.county_id for m in selectors.memberships(request.user)))
    if not (own or county):
        raise Http404("没有找到该停课日")
    services.closure_remove(actor=request.user, closure=closure)
    messages.success(request, f"已删除停课日 {closure.date}：这一天恢复为在校日，13510 按考勤重新计算。")
    return redirect("calendar_home")


@login_required
@require_POST
def term_create(request):
    form = TermForm(request.POST, schools=selectors.closure_schools(request.user))
    if not form.is_valid():
        return render(request, "calendar/home.html", _context(request, term_form=form))
    try:
        term_add(actor=request.user, school=form.cleaned_data["school"], name=form.cleaned_data["name"],
                 start=form.cleaned_data["start"], end=form.cleaned_data["end"])
    except (ValidationError, IntegrityError):
        messages.error(request, "无法新建学期：同一学校的学期名不能重复，结束日期不能早于开学日期。")
        return redirect("calendar_home")
    messages.success(request, f"已新建学期 {form.cleaned_data['name']}。")
    return redirect("calendar_home")
