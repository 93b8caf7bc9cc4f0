"""Pages of special education: the school's disabled children with placement and shortfall
flags, one child's page (placement history, the 送教上门 plan with its computation in words, the
visit log) and the phone form a teacher records a visit on.

Reads go through `baoxue.special.selectors` (anyone else gets a 404); each POST is one service of
`baoxue.special.services`, whose ValidationError is shown on the form it came from."""


from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from baoxue.lib.uploads import ACCEPTED_LABEL
from baoxue.org import selectors as org_selectors
from baoxue.org.models import County, KeyGroup, KeyGroupMembership, Role
from baoxue.special import selectors, services, shortfall
from baoxue.special.forms import PlacementForm, PlanForm, SettingsForm, VisitFileForm, VisitForm
from baoxue.special.models import HomeTeachingPlan, HomeTeachingVisit, PlacementDecision, SpecialFile, SpecialSettings
from baoxue.web import apply_service, paper_response


def _signed():
    return Exists(SpecialFile.objects.filter(visit=OuterRef("pk"), kind=SpecialFile.Kind.SIGNATURE))


def _visit_tuples(plan_ids) -> dict[int, list]:
    plan_ids = list(plan_ids)
    rows: dict[int, list] = {pk: [] for pk in plan_ids}
    for plan_id, date, hours, signed in (HomeTeachingVisit.objects.filter(plan_id__in=plan_ids)
                                         .annotate(signed=_signed()).values_list("plan_id", "date", "hours", "signed")):
        rows[plan_id].append((date, hours, signed))
    return rows


# ---------------------------------------------------------------- list

@never_cache
@login_required
def student_list(request):
    """The school's disabled children: placement in force, the 送教上门 plan and its flags."""
    user, today = request.user, timezone.localdate()
    if not selectors.sees_list(user):
        raise Http404("没有找到该页面")
    schools = list(selectors.whole_schools(user).order_by("code"))
    code = request.GET.get("school", "")
    school = next((s for s in schools if s.code == code), schools[0] if schools else None)
    students = list(selectors.disabled_students(user, school=school, today=today)
                    .select_related("school", "school_class__grade")
                    .order_by("school_class__grade__order", "school_class__name", "name"))
    ids = [s.pk for s in students]
    latest: dict[int, PlacementDecision] = {}
    for d in PlacementDecision.objects.filter(student_id__in=ids).order_by("-decided_on", "-id"):
        latest.setdefault(d.student_id, d)
    groups: dict[int, KeyGroupMembership] = {}
    for m in (KeyGroupMembership.objects.filter(student_id__in=ids, group=KeyGroup.DISABLED)
              .filter(Q(ended_on__isnull=True) | Q(ended_on__gt=today)).order_by("-started_on")):
        groups.setdefault(m.student_id, m)
    plans: dict[int, list[HomeTeachingPlan]] = {}
    for p in HomeTeachingPlan.objects.filter(student_id__in=ids).select_related("school").order_by("-start_on"):
        plans.setdefault(p.student_id, []).append(p)
    in_force = {sid: selectors.plan_in_force(ps, today) for sid, ps in plans.items()}
    visits = _visit_tuples(p.pk for p in in_force.values() if p)
    settings_by_county: dict[int, SpecialSettings] = {}
    book = shortfall.SchoolDayBook()
    rows = []
    for s in students:
        decision, plan, result = latest.get(s.pk), in_force.get(s.pk), None
        if plan is not None and decision is not None and decision.placement == "home_teaching":
            if s.county_id not in settings_by_county:
                settings_by_county[s.county_id] = selectors.current_settings(s.county_id)
            rules = settings_by_county[s.county_id]
            result = shortfall.compute(plan, rules, visits[plan.pk], today, book)
        rows.append({"student": s, "decision": decision, "membership": groups.get(s.pk), "plan": plan,
                     "shortfall": result,
                     "needs_plan": bool(decision and decision.placement == "home_teaching" and plan is None)})
    counts = {
        "all": len(rows),
        "home": sum(1 for r in rows if r["decision"] and r["decision"].placement == "home_teaching"),
        "undecided": sum(1 for r in rows if r["decision"] is None),
        "flagged": sum(1 for r in rows if (r["shortfall"] and r["shortfall"].flags) or r["needs_plan"]),
    }
    return render(request, "special/list.html", {
        "rows": rows, "schools": schools, "school": school, "counts": counts, "today": today,
        "is_county": _county_of(user) is not None,
    })


# ---------------------------------------------------------------- one child

def _context(request, student, **bound) -> dict:
    user, today = request.user, timezone.localdate()
    decisions = selectors.decisions_of(student)
    in_force = decisions[0] if decisions else None
    plans = list(HomeTeachingPlan.objects.filter(student=student).select_related("school")
                 .prefetch_related("teachers").order_by("-start_on"))
    plan = selectors.plan_in_force(plans, today)
    can_manage = selectors.can_manage(user, student)
    result, visits = None, []
    if plan is not None:
        visits = list(plan.visits.annotate(signed=_signed()).prefetch_related("teachers", "files")
                      .order_by("-date", "-id"))
        result = shortfall.compute(plan, selectors.current_settings(student.county_id),
                                   [(v.date, v.hours, v.signed) for v in visits], today)
    home = in_force is not None and in_force.placement == "home_teaching"
    plan_form = None
    if can_manage and home:
        initial = ({f: getattr(plan, f) for f in services.PLAN_FIELDS} | {"teachers": [t.pk for t in plan.teachers.all()]}
                   if plan else {"school_year": selectors.school_year_of(today), "visits_per_week": 2, "hours_per_visit": 2})
        plan_form = bound.get("plan") or PlanForm(school=student.school, initial=initial)
    return {
        "student": student, "decisions": decisions, "in_force": in_force, "home": home,
        "membership": selectors.disabled_membership(student, today), "plans": plans, "plan": plan,
        "shortfall": result, "visits": visits, "can_manage": can_manage,
        "can_record": plan is not None and selectors.can_record_visit(user, plan),
        "placement_form": bound.get("placement") or (PlacementForm() if can_manage else None),
        "plan_form": plan_form, "file_form": VisitFileForm(), "today": today, "accepted": ACCEPTED_LABEL,
        "can_apply": can_manage or (student.school_class_id and student.school_class.head_teacher_id == user.pk),
        "student_visible": org_selectors.students_for_user(user).filter(pk=student.pk).exists(),
    }


@never_cache
@login_required
def student_detail(request, pk):
    student = selectors.get_student_for_user(request.user, pk)
    return render(request, "special/student.html", _context(request, student))


@never_cache
@login_required
@require_POST
def placement_add(request, pk):
    student = selectors.get_student_for_user(request.user, pk)
    if not selectors.can_manage(request.user, student):
        raise Http404("没有找到该页面")
    form = PlacementForm(request.POST, request.FILES)
    if form.is_valid():
        d = form.cleaned_data
        if apply_service(form, lambda: services.placement_decide(
                actor=request.user, student=student, decided_on=d["decided_on"], placement=d["placement"],
                basis=d["basis"], upload=d.get("upload"))):
            messages.success(request, "已登记安置决定")
            return redirect("special_student", pk=student.pk)
    return render(request, "special/student.html", _context(request, student, placement=form), status=400)


@never_cache
@login_required
@require_POST
def plan_save(request, pk):
    student = selectors.get_student_for_user(request.user, pk)
    if not selectors.can_manage(request.user, student):
        raise Http404("没有找到该页面")
    form = PlanForm(request.POST, school=student.school)
    if form.is_valid():
        d = form.cleaned_data
        if apply_service(form, lambda: services.plan_save(
                actor=request.user, student=student, school_year=d["school_year"].strip(), start_on=d["start_on"],
                end_on=d["end_on"], visits_per_week=d["visits_per_week"], hours_per_visit=d["hours_per_visit"],
                hours_per_year=d["hours_per_year"], teachers=d["teachers"], teacher_names=d["teacher_names"])):
            messages.success(request, "已保存送教上门计划")
            return redirect("special_student", pk=student.pk)
    return render(request, "special/student.html", _context(request, student, plan=form), status=400)


# ---------------------------------------------------------------- visits (phone)

@never_cache
@login_required
def visit_new(request, pk):
    """A teacher records a visit on a phone: date, hours, content, teachers, the guardian's
    signature photographed, and photos."""
    plan = selectors.get_plan_for_user(request.user, pk)
    if not selectors.can_record_visit(request.user, plan):
        raise Http404("没有找到该页面")
    plan = HomeTeachingPlan.objects.select_related("student__school_class__grade", "school").get(pk=plan.pk)
    form = VisitForm(request.POST or None, request.FILES or None, plan=plan, user=request.user)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        if apply_service(form, lambda: services.visit_record(
                actor=request.user, plan=plan, date=d["date"], hours=d["hours"], content=d["content"],
                teachers=d["teachers"], teacher_names=d["teacher_names"], signature=d.get("signature"),
                photos=d.get("photos") or [])):
            messages.success(request, f"已记录 {d['date']:%m月%d日} 的送教上门" + ("" if d.get("signature") else "：请补传监护人签字"))
            return redirect("special_student", pk=plan.student_id)
    return render(request, "special/visit_new.html", {"plan": plan, "student": plan.student, "form": form},
                  status=400 if request.method == "POST" else 200)


@never_cache
@login_required
@require_POST
def visit_file_add(request, pk):
    visit = selectors.get_visit_for_user(request.user, pk)
    if not selectors.can_record_visit(request.user, visit.plan):
        raise Http404("没有找到该页面")
    form = VisitFileForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            f = services.visit_file_add(actor=request.user, visit=visit, kind=form.cleaned_data["kind"],
                                        upload=form.cleaned_data["upload"])
            messages.success(request, f"已上传{f.get_kind_display()}")
        except ValidationError as e:
            messages.error(request, "；".join(e.messages))
    else:
        messages.error(request, "请选择类别和文件")
    return redirect(f"{reverse('special_student', kwargs={'pk': visit.student_id})}#visit-{visit.pk}")


# ---------------------------------------------------------------- files

@login_required
def file_view(request, pk):
    """One upload, only to those who see the child; every view is in the audit log."""
    f = selectors.get_file_for_user(request.user, pk)
    return paper_response(request, f, student=f.student, label=f"{f.student.name}：{f.get_kind_display()}")


# ---------------------------------------------------------------- county settings

def _county_of(user) -> County | None:
    if org_selectors.is_admin(user):
        return County.objects.order_by("code").first()
    return next((m.county for m in org_selectors.memberships(user) if m.role == Role.COUNTY), None)


@never_cache
@login_required
def settings_page(request):
    """The county's 送教上门 targets (two visits a week, 30 class hours a year by default)."""
    county = _county_of(request.user)
    if county is None:
        raise Http404("没有找到该页面")
    current = selectors.current_settings(county.pk)
    form = SettingsForm(request.POST or None, initial={"visits_per_week": current.visits_per_week,
                                                       "hours_per_year": current.hours_per_year})
    if request.method == "POST" and form.is_valid() and apply_service(form, lambda: services.settings_set(
            actor=request.user, county=county, **form.cleaned_data)):
        messages.success(request, "已保存送教上门规则")
        return redirect("special_settings")
    return render(request, "special/settings.html", {"form": form, "county": county, "current": current})
