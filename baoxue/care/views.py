"""Pages of key-group work and one-on-one care: the key-group page of a school, a mentor's phone
page, the school's high-risk list, a student's care page and the county's cadence.

Reads go through `baoxue.care.selectors` (anyone else gets a 404); each POST is one step of
`baoxue.care.services`, whose ValidationError is shown on the form it came from.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from baoxue.attendance.models import UNEXCUSED, AttendanceRecord
from baoxue.care import due, keygroups, selectors, services
from baoxue.care.forms import AssignForm, CadenceForm, EndForm, OutcomeForm, PlanForm, RecordForm, RiskMarkForm
from baoxue.care.models import CADENCE_GROUPS, CareForm, CareRecord, RiskMark
from baoxue.cases.models import Case
from baoxue.org import selectors as org_selectors
from baoxue.org.models import County, KeyGroup, Mentorship, RegistryStatus, Role, Student
from baoxue.web import apply_service


def _flags(student_ids, today):
    """Who of these is absent without excuse today, and who has an open 13510 case (two queries)."""
    absent = dict(AttendanceRecord.objects.filter(student_id__in=student_ids, date=today, mark__in=UNEXCUSED)
                  .values_list("student_id", "mark"))
    cases = dict(Case.objects.filter(student_id__in=student_ids, is_open=True).values_list("student_id", "pk"))
    return absent, cases


# ---------------------------------------------------------------- the mentor's phone page

@never_cache
@login_required
def mine(request):
    """我的帮扶学生: mentees, what is due this week (cadence and overdue), who is absent today or
    has an open case. Also the head teacher's key-group students who have no mentor."""
    user = request.user
    today = timezone.localdate()
    mentorships = list(Mentorship.objects.filter(mentor=user, ended_on__isnull=True)
                       .select_related("student__school_class__grade").order_by("student__name"))
    candidates = Student.objects.filter(
        Q(pk__in=[m.student_id for m in mentorships]) | Q(school_class__head_teacher=user),
        status=RegistryStatus.IN_SCHOOL)
    report = due.due_report(candidates, today)
    own = report.for_teacher(user)
    mentee_ids = [m.student_id for m in mentorships]
    absent, cases = _flags(mentee_ids + [i.student.pk for i in own], today)
    open_marks = set(RiskMark.objects.filter(student_id__in=mentee_ids, ended_on__isnull=True)
                     .values_list("student_id", flat=True))
    mentees = [{"m": m, "s": m.student, "absent": absent.get(m.student_id), "case": cases.get(m.student_id),
                "risk": m.student_id in open_marks,
                "pressing": [i for i in own if i.student.pk == m.student_id and (i.overdue or i.this_week)]}
               for m in mentorships]
    return render(request, "care/mine.html", {
        "today": today, "mentees": mentees, "pressing": report.pressing(own), "warnings": report.warnings,
        "absent_today": [x for x in mentees if x["absent"]], "with_case": [x for x in mentees if x["case"]],
        "absent_labels": dict(AttendanceRecord._meta.get_field("mark").choices),
        "overview_schools": selectors.overview_schools(user),
    })


# ---------------------------------------------------------------- school pages

def _school_from_request(request):
    schools = selectors.overview_schools(request.user)
    code = request.GET.get("school", "")
    if code:
        return selectors.get_overview_school_for_user(request.user, code), schools
    if not schools:
        raise Http404("没有找到该页面")
    return schools[0], schools


@never_cache
@login_required
def key_groups(request):
    """重点群体 of a school, a grade or a class: counts per group and subtype, the list behind
    each count, and the changes month by month over the school year."""
    school, schools = _school_from_request(request)
    today = timezone.localdate()
    grade = school_class = None
    ov_grades = {str(g.pk): g for g in school.grades.all()}
    if request.GET.get("grade"):
        grade = ov_grades.get(request.GET["grade"])
        if grade is None:
            raise Http404("没有找到该年级")
    if request.GET.get("class"):
        school_class = school.classes.select_related("grade").filter(pk=request.GET["class"]).first() \
            if request.GET["class"].isdigit() else None
        if school_class is None:
            raise Http404("没有找到该班级")
    group = request.GET.get("group", "")
    if group and group not in KeyGroup.values:
        raise Http404("没有这个重点群体")
    subtype = request.GET.get("subtype", "")
    ov = keygroups.overview(school, today=today, grade=grade, school_class=school_class, group=group, subtype=subtype)
    base = f"?school={school.code}"
    if school_class:
        base += f"&class={school_class.pk}"
    elif grade:
        base += f"&grade={grade.pk}"
    return render(request, "care/key_groups.html", {
        "school": school, "schools": schools, "ov": ov, "grade": grade, "school_class": school_class,
        "group": group, "group_label": dict(KeyGroup.choices).get(group, ""), "subtype": subtype,
        "group_choices": KeyGroup.choices, "base": base, "today": today,
    })


@never_cache
@login_required
def high_risk(request):
    """The school's high-risk list with mentors and overdue flags (office and leaders)."""
    school, schools = _school_from_request(request)
    today = timezone.localdate()
    marks = list(RiskMark.objects.filter(school=school, ended_on__isnull=True)
                 .select_related("student__school_class__grade").order_by("student__school_class__grade__order",
                                                                          "student__name"))
    ids = [m.student_id for m in marks]
    report = due.due_report(Student.objects.filter(pk__in=ids), today)
    items = {i.student.pk: i for i in report.items if i.group == "high_risk"}
    mentors: dict[int, list] = {}
    for ms in Mentorship.objects.filter(student_id__in=ids, ended_on__isnull=True).select_related("mentor"):
        mentors.setdefault(ms.student_id, []).append(ms.mentor)
    absent, cases = _flags(ids, today)
    rows = [{"mark": m, "s": m.student, "mentors": mentors.get(m.student_id, []), "item": items.get(m.student_id),
             "absent": m.student_id in absent, "case": cases.get(m.student_id)} for m in marks]
    return render(request, "care/high_risk.html", {
        "school": school, "schools": schools, "rows": rows, "today": today, "warnings": report.warnings,
        "overdue": sum(1 for r in rows if r["item"] and r["item"].overdue),
        "no_mentor": sum(1 for r in rows if not r["mentors"]),
    })


# ---------------------------------------------------------------- one student's care

def _student_context(request, student, **bound) -> dict:
    user = request.user
    today = timezone.localdate()
    manage = selectors.can_manage(user, student.school)
    record = selectors.can_record(user, student)
    mark = RiskMark.objects.filter(student=student, ended_on__isnull=True).first()
    past_marks = list(RiskMark.objects.filter(student=student, ended_on__isnull=False))
    mentorships = list(Mentorship.objects.filter(student=student).select_related("mentor").order_by("-started_on"))
    records = list(CareRecord.objects.filter(student=student).select_related("recorded_by")[:200])
    report = due.due_report(Student.objects.filter(pk=student.pk), today)
    absent, cases = _flags([student.pk], today)
    return {
        "student": student, "today": today, "can_manage": manage, "can_record": record, "mark": mark,
        "past_marks": past_marks, "mentorships": mentorships, "records": records, "items": report.items,
        "warnings": report.warnings, "absent": absent.get(student.pk), "case_pk": cases.get(student.pk),
        "sees_student": org_selectors.students_for_user(user).filter(pk=student.pk).exists(),
        "mark_form": bound.get("mark") or (RiskMarkForm() if manage and not mark else None),
        "mark_end_form": bound.get("mark_end") or (EndForm(prefix="markend") if manage and mark else None),
        "plan_form": bound.get("plan") or (PlanForm(initial={"plan": mark.plan}) if mark and record else None),
        "assign_form": bound.get("assign") or (AssignForm(staff=services.school_staff(student.school))
                                               if manage else None),
        "end_form": EndForm(prefix="msend") if manage else None,
        "record_form": bound.get("record") or (RecordForm() if record else None),
        "outcome_form": OutcomeForm() if record else None,
        "referral": CareForm.REFERRAL,
    }


@never_cache
@login_required
def student_care(request, pk):
    student = selectors.get_care_student_for_user(request.user, pk)
    return render(request, "care/student.html", _student_context(request, student))


@never_cache
@login_required
@require_POST
def student_act(request, pk, action):
    user = request.user
    student = selectors.get_care_student_for_user(user, pk)
    manage = selectors.can_manage(user, student.school)
    record = selectors.can_record(user, student)
    done = redirect("care_student", pk=student.pk)
    mark = RiskMark.objects.filter(student=student, ended_on__isnull=True).first()
    if action == "mark" and manage:
        form = RiskMarkForm(request.POST)
        if form.is_valid() and apply_service(form, lambda: services.risk_mark(actor=user, student=student,
                                                                                **form.cleaned_data)):
            messages.success(request, f"已将 {student.name} 列为高风险学生，请指定帮扶教师")
            return done
        bound = {"mark": form}
    elif action == "mark-end" and manage and mark:
        form = EndForm(request.POST, prefix="markend")
        if form.is_valid() and apply_service(form, lambda: services.risk_mark_end(
                actor=user, mark=mark, ended_on=form.cleaned_data["ended_on"], note=form.cleaned_data["note"])):
            messages.success(request, "已解除高风险")
            return done
        bound = {"mark_end": form}
    elif action == "plan" and record and mark:
        form = PlanForm(request.POST)
        if form.is_valid() and apply_service(form, lambda: services.care_plan_set(actor=user, mark=mark,
                                                                                    plan=form.cleaned_data["plan"])):
            messages.success(request, "已保存帮扶计划")
            return done
        bound = {"plan": form}
    elif action == "assign" and manage:
        form = AssignForm(request.POST, staff=services.school_staff(student.school))
        if form.is_valid() and apply_service(form, lambda: services.mentorship_assign(actor=user, student=student,
                                                                                        **form.cleaned_data)):
            messages.success(request, "已指定帮扶教师")
            return done
        bound = {"assign": form}
    elif action == "mentor-end" and manage:
        ms = Mentorship.objects.filter(student=student, pk=request.POST.get("mentorship") or 0,
                                       ended_on__isnull=True).first()
        if ms is None:
            raise Http404("没有找到该帮扶关系")
        form = EndForm(request.POST, prefix="msend")
        if form.is_valid() and apply_service(form, lambda: services.mentorship_end(
                actor=user, mentorship=ms, ended_on=form.cleaned_data["ended_on"], note=form.cleaned_data["note"])):
            messages.success(request, f"已结束 {ms.mentor.get_full_name() or ms.mentor.get_username()} 的帮扶")
            return done
        messages.error(request, "；".join(e for errs in form.errors.values() for e in errs))
        return done
    elif action == "record" and record:
        form = RecordForm(request.POST)
        if form.is_valid() and apply_service(form, lambda: services.care_record_add(actor=user, student=student,
                                                                                      **form.cleaned_data)):
            messages.success(request, "已保存帮扶记录")
            return done
        bound = {"record": form}
    elif action == "outcome" and record:
        rec = CareRecord.objects.filter(student=student, pk=request.POST.get("record") or 0).first()
        if rec is None:
            raise Http404("没有找到该记录")
        form = OutcomeForm(request.POST)
        if form.is_valid() and apply_service(form, lambda: services.referral_outcome_set(
                actor=user, record=rec, outcome=form.cleaned_data["outcome"])):
            messages.success(request, "已保存转介结果")
            return done
        messages.error(request, "；".join(e for errs in form.errors.values() for e in errs))
        return done
    else:
        raise Http404("没有找到该页面")
    return render(request, "care/student.html", _student_context(request, student, **bound), status=400)


# ---------------------------------------------------------------- the county's cadence

@never_cache
@login_required
def cadence(request):
    """关爱频次: the county bureau sets how often each group is looked after and by what."""
    user = request.user
    counties = [m.county for m in org_selectors.memberships(user) if m.role == Role.COUNTY]
    if org_selectors.is_admin(user):
        counties = list(County.objects.order_by("code"))
    if not counties:
        raise Http404("没有找到该页面")
    county = next((c for c in counties if c.code == request.GET.get("county")), counties[0])
    current = due.cadences_for([county.pk])
    bound_group, bound_form = request.POST.get("group"), None
    if request.method == "POST":
        if bound_group not in due.DEFAULT_CADENCES:
            raise Http404("没有这个群体")
        bound_form = CadenceForm(request.POST, prefix=bound_group)
        if bound_form.is_valid() and apply_service(bound_form, lambda: services.cadence_set(
                actor=user, county=county, group=bound_group, every_weeks=bound_form.cleaned_data["every_weeks"],
                per_term=bound_form.cleaned_data["per_term"], what=bound_form.cleaned_data["what"],
                forms=bound_form.cleaned_data["counts_as"])):
            messages.success(request, "已保存关爱频次")
            return redirect(f"{request.path}?county={county.code}")
    rows = []
    for group, label in CADENCE_GROUPS:
        c = current[(county.pk, group)]
        form = bound_form if group == bound_group and bound_form is not None else CadenceForm(
            prefix=group, initial={"per_term": c.per_term, "every_weeks": c.every_weeks, "what": c.what,
                                   "counts_as": c.forms})
        rows.append({"group": group, "label": label, "cadence": c, "form": form,
                     "forms_label": "、".join(CareForm(f).label for f in c.forms) or "任何帮扶记录"})
    return render(request, "care/cadence.html", {"county": county, "counties": counties, "rows": rows,
                                                 "per_term_days": due.PER_TERM_WORKING_DAYS},
                  status=400 if bound_form is not None else 200)
