"""Pages of the monthly report (学校一月一报告) and of 巩固率.

Reads go through `baoxue.reports.access` (anyone else gets a 404); each POST is one service of
`baoxue.reports.services`, whose ValidationError is shown on the page it came from. Every page
reads in a constant number of queries.
"""

import datetime
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from baoxue.audit.models import Action
from baoxue.audit.services import audit_record
from baoxue.calendar.workdays import CalendarMissing
from baoxue.org.models import School
from baoxue.reports import access, exports, monthly, retention, services
from baoxue.reports.forms import RetentionForm, ReturnForm, ReviewForm
from baoxue.reports.models import MonthlyReport
from baoxue.web import apply_service

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
LIST_MONTHS = 12


def _message(e: ValidationError) -> str:
    return "；".join(e.messages)


def _month_or_404(text: str, today: datetime.date) -> datetime.date:
    try:
        month = monthly.parse_month(text)
    except monthly.BadMonth:
        raise Http404("没有这个月份")
    if month > today.replace(day=1):
        raise Http404("该月尚未开始")
    return month


def _download(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    ext = filename.rsplit(".", 1)[-1]
    response["Content-Disposition"] = f"attachment; filename=\"report.{ext}\"; filename*=UTF-8''{quote(filename)}"
    response["Cache-Control"] = "no-store"
    return response


# ---------------------------------------------------------------- the list

@never_cache
@login_required
def monthly_list(request):
    """A school's months with their reports' states; for the bureau, a month and every school of
    the county with its report's state, those not submitted first."""
    user = request.user
    today = timezone.localdate()
    last = monthly.previous_month(today)
    counties = access.bureau_counties(user)
    own = access.own_schools(user)
    if not counties and not own:
        raise Http404("没有找到该页面")

    bureau = None
    if counties:
        code = request.GET.get("county") or counties[0].code
        county = next((c for c in counties if c.code == code), None)
        if county is None:
            raise Http404("没有找到该区县")
        month = last
        if request.GET.get("month"):
            try:
                month = monthly.parse_month(request.GET["month"])
            except monthly.BadMonth as e:
                messages.error(request, str(e))
            else:
                if month > last:
                    messages.error(request, f"{monthly.month_label(month)}尚未结束，还没有月报告")
                    month = last
        schools = list(School.objects.filter(county=county).order_by("code"))
        reports = {r.school_id: r for r in MonthlyReport.objects.filter(county=county, month=month)
                   .select_related("submitted_by")}
        rows = [{"school": s, "report": reports.get(s.pk),
                 "submitted": s.pk in reports and reports[s.pk].state == MonthlyReport.State.SUBMITTED}
                for s in schools]
        rows.sort(key=lambda r: (r["submitted"], r["school"].code))
        submitted = sum(1 for r in rows if r["submitted"])
        due = None
        try:
            due = monthly.first_working_day_after(month)
        except CalendarMissing:  # the page still lists the schools
            pass
        bureau = {"county": county, "counties": counties, "month": month, "month_key": monthly.month_key(month),
                  "rows": rows, "submitted": submitted, "not_submitted": len(rows) - submitted,
                  "months": [_shift(last, -i) for i in range(LIST_MONTHS)], "draft_on": due}

    school_sections = []
    if own:
        months = [_shift(last, -i) for i in range(LIST_MONTHS)]
        reports = {(r.school_id, r.month): r for r in MonthlyReport.objects.filter(school__in=own, month__gte=months[-1])}
        older = list(MonthlyReport.objects.filter(school__in=own, month__lt=months[-1]).order_by("-month"))
        for s in own:
            school_sections.append({
                "school": s,
                "months": [{"month": m, "key": monthly.month_key(m), "report": reports.get((s.pk, m))} for m in months],
                "older": [r for r in older if r.school_id == s.pk],
                "current_key": monthly.month_key(today.replace(day=1)),
            })
    return render(request, "reports/monthly_list.html", {
        "bureau": bureau, "school_sections": school_sections, "today": today,
    })


def _shift(month: datetime.date, n: int) -> datetime.date:
    index = month.year * 12 + month.month - 1 + n
    return datetime.date(index // 12, index % 12 + 1, 1)


# ---------------------------------------------------------------- one report

def _detail_context(request, school, month, *, review_form=None, return_form=None) -> dict:
    user = request.user
    today = timezone.localdate()
    report = (MonthlyReport.objects.filter(school=school, month=month)
              .select_related("reviewed_by", "signed_by", "submitted_by", "returned_by").first())
    live = monthly.monthly_figures(school, month)
    figures = report.figures if report is not None else live
    changes = monthly.figure_changes(report.figures, live) if report is not None else []
    finished = monthly.is_finished(month, today)
    acts = access.allowed_actions(user, report, school) if finished else set()
    return {
        "school": school, "month": month, "month_key": monthly.month_key(month),
        "month_label": monthly.month_label(month), "report": report, "finished": finished,
        "figures": figures, "live_changes": changes,
        "numbers": [(key, label, figures.get(key, 0)) for key, label in monthly.NUMBERS],
        "lists": [(key, label, (figures.get("lists") or {}).get(key, [])) for key, label in monthly.LISTS],
        "any_list": any((figures.get("lists") or {}).values()),
        "acts": acts,
        "review_form": review_form or (ReviewForm(initial={"remarks": report.remarks}) if "review" in acts else None),
        "return_form": return_form or (ReturnForm() if "return" in acts else None),
        "prev_key": monthly.month_key(_shift(month, -1)),
        "next_key": monthly.month_key(_shift(month, 1)) if _shift(month, 1) <= today.replace(day=1) else None,
    }


@never_cache
@login_required
def monthly_detail(request, code, month):
    school = access.get_report_school_for_user(request.user, code)
    month = _month_or_404(month, timezone.localdate())
    return render(request, "reports/monthly_detail.html", _detail_context(request, school, month))


DONE = {"draft": "已生成月报告", "review": "已审核，待校长签字", "sign": "已签字，数据已固定；请提交教体局",
        "submit": "已提交教体局", "return": "已退回学校"}


@never_cache
@login_required
@require_POST
def monthly_act(request, code, month, action):
    user = request.user
    school = access.get_report_school_for_user(user, code)
    month = _month_or_404(month, timezone.localdate())
    if action not in services.STEP_NAMES:
        raise Http404("没有找到该页面")
    done = redirect("report_monthly_detail", code=school.code, month=monthly.month_key(month))
    report = MonthlyReport.objects.filter(school=school, month=month).select_related("school").first()
    if action == "draft":
        try:
            services.report_draft(actor=user, school=school, month=month)
        except ValidationError as e:
            messages.error(request, _message(e))
        else:
            messages.success(request, DONE["draft"])
        return done
    if report is None:
        raise Http404("该月还没有报告")
    if action == "review":
        form = ReviewForm(request.POST)
        if form.is_valid() and apply_service(form, lambda: services.report_review(
                actor=user, report=report, remarks=form.cleaned_data["remarks"])):
            messages.success(request, DONE["review"])
            return done
        return render(request, "reports/monthly_detail.html",
                      _detail_context(request, school, month, review_form=form), status=400)
    if action == "return":
        form = ReturnForm(request.POST)
        if form.is_valid() and apply_service(form, lambda: services.report_return(
                actor=user, report=report, reason=form.cleaned_data["reason"])):
            messages.success(request, DONE["return"])
            return done
        return render(request, "reports/monthly_detail.html",
                      _detail_context(request, school, month, return_form=form), status=400)
    try:
        with transaction.atomic():
            if action == "refresh":
                changed = services.report_refresh(actor=user, report=report)
            elif action == "sign":
                services.report_sign(actor=user, report=report)
            else:
                services.report_submit(actor=user, report=report)
    except ValidationError as e:
        messages.error(request, _message(e))
        return done
    if action == "refresh":
        messages.success(request, "数据已更新" if changed else "数据没有变化")
    else:
        messages.success(request, DONE[action])
    return done


def _report_for_export(request, code, month) -> MonthlyReport:
    school = access.get_report_school_for_user(request.user, code)
    month = _month_or_404(month, timezone.localdate())
    report = MonthlyReport.objects.filter(school=school, month=month).select_related(
        "school", "signed_by", "submitted_by").first()
    if report is None:
        raise Http404("该月还没有报告")
    return report


def _export(request, report, kind: str, content: bytes, content_type: str) -> HttpResponse:
    audit_record(actor=request.user, action=Action.EXPORT, obj=report, note=f"导出月报告（.{kind}）")
    name = f"{report.school.name}控辍保学月报告{report.month.year}年{report.month.month}月.{kind}"
    return _download(content, content_type, name)


@never_cache
@login_required
def monthly_xlsx(request, code, month):
    report = _report_for_export(request, code, month)
    return _export(request, report, "xlsx", exports.monthly_xlsx(report), XLSX)


@never_cache
@login_required
def monthly_docx(request, code, month):
    report = _report_for_export(request, code, month)
    return _export(request, report, "docx", exports.monthly_docx(report), DOCX)


# ---------------------------------------------------------------- 巩固率

def _year(request, today) -> int:
    text = request.GET.get("year", "")
    if text.isdigit() and 2000 <= int(text) <= today.year + 1:
        return int(text)
    return retention.latest_graduation_year(today)


@never_cache
@login_required
def retention_page(request):
    """The bureau: each school's rate and the county's; a school: its own, with its inputs and
    (for its office, registrar and leaders) the form to enter what the system lacks."""
    user = request.user
    today = timezone.localdate()
    year = _year(request, today)
    code = request.GET.get("school", "")
    counties = access.bureau_counties(user)
    own = access.own_schools(user)
    if code or (own and not counties):
        school = access.get_report_school_for_user(user, code or own[0].code)
        return _retention_school(request, school, year, today)
    if not counties:
        raise Http404("没有找到该页面")
    county_code = request.GET.get("county") or counties[0].code
    county = next((c for c in counties if c.code == county_code), None)
    if county is None:
        raise Http404("没有找到该区县")
    results = {stage: retention.county_retention(county, year, stage, today)
               for stage in (retention.JUNIOR, retention.PRIMARY)}
    return render(request, "reports/retention_county.html", {
        "county": county, "counties": counties, "year": year, "years": _years(today), "today": today,
        "stages": [results[retention.JUNIOR], results[retention.PRIMARY]],
        "has_schools": any(r["schools"] for r in results.values()),
    })


def _years(today) -> list[int]:
    latest = retention.latest_graduation_year(today)
    return [latest + 1 - i for i in range(6)]


def _retention_school(request, school, year, today, form=None, status=200):
    result = retention.retention(school, year, today)
    editable = access.can_edit_retention(request.user, school)
    if editable and form is None:
        form = RetentionForm(result=result, initial={
            **{i["key"]: i["value"] for i in result["inputs"] if i["source"] == retention.HAND},
            "note": result["note"]})
    return render(request, "reports/retention_school.html", {
        "school": school, "year": year, "years": _years(today), "r": result, "form": form if editable else None,
        "is_bureau": access.is_bureau_of(request.user, school) or bool(access.bureau_counties(request.user)),
        "own_count": len(access.own_schools(request.user)),
    }, status=status)


@never_cache
@login_required
@require_POST
def retention_edit(request, code, year):
    user = request.user
    today = timezone.localdate()
    school = access.get_report_school_for_user(user, code)
    if not access.can_edit_retention(user, school) or not 2000 <= year <= today.year + 1:
        raise Http404("没有找到该页面")
    result = retention.retention(school, year, today)
    form = RetentionForm(request.POST, result=result)
    if form.is_valid() and apply_service(form, lambda: services.retention_inputs_set(
            actor=user, school=school, year=year, values=form.values(), note=form.cleaned_data["note"])):
        messages.success(request, "已保存巩固率数据")
        return redirect(reverse("report_retention") + f"?school={school.code}&year={year}")
    return _retention_school(request, school, year, today, form=form, status=400)
