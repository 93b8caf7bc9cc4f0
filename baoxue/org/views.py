"""Pages for organisation and people: home, schools, classes, students and the student import.

Every read goes through `selectors` (outside the user's scope is a 404), every write through
`services` or `imports` (which write the audit rows). Views only glue the two to templates.
"""

import io
import uuid
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Prefetch, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from baoxue.audit.models import Action
from baoxue.audit.services import audit_record
from baoxue.lib.idcard import mask_id, mask_phone
from baoxue.org import imports, selectors, services
from baoxue.org.forms import (
    FamilyMemberForm,
    ImportUploadForm,
    KeyGroupAddForm,
    KeyGroupEndForm,
    LeadershipGroupForm,
    StudentFilterForm,
    StudentForm,
    current_key_group_q,
    mask_registry_no,
)
from baoxue.org.models import (
    FamilyMember,
    ImportBatch,
    KeyGroup,
    KeyGroupMembership,
    LeadershipGroup,
    Mentorship,
    RegistryStatus,
    Role,
    School,
    Student,
    Term,
)
from baoxue.web import apply_service, xlsx_response

PAGE_SIZE = 50


# ---------------------------------------------------------------- counts shared by pages

def _current_groups_prefetch():
    today = timezone.localdate()
    return Prefetch("key_groups", queryset=KeyGroupMembership.objects.filter(current_key_group_q(today)),
                    to_attr="current_groups")


def _count_table(students, schools) -> dict:
    """In-school students and current key-group members per school, for the overview tables.

    Returns {"rows": [...], "groups": [(value, label) of groups that occur], "totals": {...}}."""
    in_scope = Student.objects.filter(pk__in=students.values("pk"))
    totals_by_school = dict(
        in_scope.filter(status=RegistryStatus.IN_SCHOOL).values_list("school_id").annotate(n=Count("pk"))
    )
    members = KeyGroupMembership.objects.filter(current_key_group_q(timezone.localdate()),
                                                student_id__in=in_scope.values("pk"))
    by_group: dict[tuple[int, str], int] = {
        (s, g): n for s, g, n in members.values_list("school_id", "group").annotate(n=Count("student_id", distinct=True))
    }
    any_group = dict(members.values_list("school_id").annotate(n=Count("student_id", distinct=True)))
    groups = [(v, label) for v, label in KeyGroup.choices if any(g == v for _, g in by_group)]
    rows = []
    for school in schools:
        rows.append({
            "school": school,
            "students": totals_by_school.get(school.pk, 0),
            "key_group_students": any_group.get(school.pk, 0),
            "groups": [by_group.get((school.pk, v), 0) for v, _ in groups],
        })
    totals = {
        "students": sum(r["students"] for r in rows),
        "key_group_students": sum(r["key_group_students"] for r in rows),
        "groups": [sum(r["groups"][i] for r in rows) for i in range(len(groups))],
    }
    return {"rows": rows, "groups": groups, "totals": totals}


def _school_summary(user, school: School) -> dict:
    students = selectors.students_for_user(user).filter(school=school)
    classes = (selectors.classes_for_user(user).filter(school=school).select_related("grade", "head_teacher")
               .annotate(n=Count("students", filter=Q(students__status=RegistryStatus.IN_SCHOOL), distinct=True))
               .order_by("grade__order", "grade__name", "name"))
    grades: dict[str, dict] = {}
    for c in classes:
        g = grades.setdefault(c.grade.name, {"name": c.grade.name, "classes": 0, "students": 0})
        g["classes"] += 1
        g["students"] += c.n
    table = _count_table(students, [school])
    return {
        "school": school,
        "classes": classes,
        "grades": list(grades.values()),
        "students": table["totals"]["students"],  # includes students not yet placed in a class
        "key_group_students": table["totals"]["key_group_students"],
        "group_counts": [(v, label, n) for (v, label), n in zip(table["groups"], table["totals"]["groups"])],
        "can_import": selectors.can_import_for_school(user, school),
    }


# ---------------------------------------------------------------- home

@login_required
def home(request):
    user = request.user
    roles = selectors.roles_of(user)
    ctx: dict = {"roles": roles, "today": timezone.localdate()}
    if Role.ADMIN in roles or Role.COUNTY in roles:
        schools = selectors.schools_for_user(user).select_related("township").order_by("code")
        ctx["county"] = _count_table(selectors.students_for_user(user).filter(school__in=schools), schools)
    # The township's own block (residents by village and school, cases, reports) is drawn by
    # the reports app's `home_township` tag.
    ctx["townships"] = [m.township for m in selectors.memberships(user) if m.role == Role.TOWNSHIP]
    whole_schools = {m.school_id: m.school for m in selectors.memberships(user)
                     if m.role in selectors.WHOLE_SCHOOL_ROLES}
    ctx["schools"] = [_school_summary(user, s) for s in whole_schools.values()]
    if Role.HEAD_TEACHER in roles:
        ctx["my_classes"] = (selectors.classes_for_user(user).filter(head_teacher=user)
                             .select_related("school", "grade")
                             .annotate(n=Count("students", filter=Q(students__status=RegistryStatus.IN_SCHOOL),
                                               distinct=True))
                             .order_by("school__code", "grade__order", "name"))
    if Role.MENTOR in roles:
        ctx["mentees"] = (Mentorship.objects.filter(mentor=user, ended_on__isnull=True,
                                                    student__in=selectors.students_for_user(user))
                          .select_related("student__school_class__grade", "student__school")
                          .order_by("student__name"))
    return render(request, "org/home.html", ctx)


# ---------------------------------------------------------------- schools and classes

def _current_term(school: School) -> Term | None:
    """The term running today; between terms, the last one begun; before any, the first."""
    today = timezone.localdate()
    terms = Term.objects.filter(school=school)
    return (terms.filter(start__lte=today, end__gte=today).first()
            or terms.filter(start__lte=today).order_by("-start").first()
            or terms.order_by("start").first())


@login_required
def school_detail(request, code):
    user = request.user
    school = selectors.get_school_for_user(user, code)
    whole = selectors.sees_whole_school(user, school)
    summary = _school_summary(user, school)
    if not whole:
        # Only the classes the user heads; the school's totals are not theirs to see.
        summary["classes"] = [c for c in summary["classes"] if c.head_teacher_id == user.pk]
    term = _current_term(school)
    group = None
    if term is not None:
        group = (LeadershipGroup.objects.filter(school=school, term=term).prefetch_related("members").first())
    members = {"leader": [], "deputy": [], "member": []}
    if group is not None:
        for m in group.members.all():
            members[m.position].append(m)
    return render(request, "org/school_detail.html", {
        "school": school, "whole": whole, "summary": summary, "term": term, "group": group,
        "members": members, "can_edit_group": term is not None and selectors.can_edit_leadership_group(user, school),
        "can_read_audit": selectors.can_read_audit(user, school),
    })


@login_required
def leadership_edit(request, code):
    user = request.user
    school = selectors.get_school_for_user(user, code)
    if not selectors.can_edit_leadership_group(user, school):
        raise Http404("没有找到该页面")
    term = _current_term(school)
    if term is None:
        messages.error(request, "本校还没有学期：请系统管理员先添加学期，再填写领导小组")
        return redirect("school_detail", code=school.code)
    group = LeadershipGroup.objects.filter(school=school, term=term).prefetch_related("members").first()
    if request.method == "POST":
        form = LeadershipGroupForm(request.POST)
        if form.is_valid():
            services.leadership_group_set(
                actor=user, school=school, term=term, members=form.member_triples(),
                office_director=form.cleaned_data["office_director"],
                office_location=form.cleaned_data["office_location"],
            )
            messages.success(request, f"已保存 {term} 学期控辍保学工作领导小组")
            return redirect("school_detail", code=school.code)
    else:
        form = LeadershipGroupForm(initial=LeadershipGroupForm.initial_from(group))
    return render(request, "org/leadership_form.html", {"school": school, "term": term, "form": form})


@login_required
def class_detail(request, pk):
    user = request.user
    school_class = selectors.get_class_for_user(user, pk)
    students = (selectors.students_for_user(user).filter(school_class=school_class)
                .prefetch_related(_current_groups_prefetch()).order_by("name_initials", "name", "pk"))
    students = list(students)
    in_school = sum(1 for s in students if s.status == RegistryStatus.IN_SCHOOL)
    return render(request, "org/class_detail.html", {
        "school_class": school_class, "school": school_class.school, "students": students, "in_school": in_school,
    })


# ---------------------------------------------------------------- students

def _student_list(request):
    form = StudentFilterForm(request.user, request.GET)
    students = (form.students(request.user)
                .select_related("school", "school_class__grade")
                .order_by("school__code", "school_class__grade__order", "school_class__grade__name",
                          "school_class__name", "name_initials", "name", "pk"))
    return form, students


@login_required
def student_list(request):
    form, students = _student_list(request)
    page = Paginator(students.prefetch_related(_current_groups_prefetch()), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "org/student_list.html", {
        "form": form, "page": page, "query": query.urlencode(),
    })


EXPORT_COLUMNS = ["学校", "年级", "班级", "姓名", "性别", "出生日期", "民族", "身份证件类型", "身份证件号", "全国学籍号",
                  "学籍状态", "户口所在地", "现住址", "现住址所在乡镇", "现住址村（社区）", "联系电话", "住校", "重点群体"]


@login_required
def student_export(request):
    """The list as .xlsx, same filters and scope. ID and registry numbers are written in full only
    when the user may reveal every one of them, phones only when they may see every one; such an
    export is logged like a reveal."""
    user = request.user
    _, students = _student_list(request)
    students = list(students.select_related("residence_township").prefetch_related(_current_groups_prefetch()))
    # The access rules look only at a student's county, school and class: one check per class.
    samples = list({(s.county_id, s.school_id, s.school_class_id): s for s in students}.values())
    full_ids = bool(samples) and all(selectors.can_reveal_id(user, s) for s in samples)
    # A list, not a call: phones in full only for one's own class and mentees.
    callable_ids = selectors.callable_student_ids(user)

    import xlsxwriter

    buf = io.BytesIO()
    # Cell text is data, never a formula or link: a name typed as "=..." must not run in Excel.
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    ws = wb.add_worksheet("学生名册")
    bold = wb.add_format({"bold": True})
    text = wb.add_format({"num_format": "@"})
    ws.write_row(0, 0, EXPORT_COLUMNS, bold)
    for i, s in enumerate(students, start=1):
        cls = s.school_class
        ws.write_row(i, 0, [
            s.school.name, cls.grade.name if cls else "", cls.name if cls else "", s.name, s.get_sex_display(),
            # Beside a masked number the full date would give away 8 of its hidden digits.
            (s.birth_date.isoformat() if full_ids else f"{s.birth_date.year}") if s.birth_date else "",
            s.ethnicity, s.get_id_type_display(),
        ])
        # Identifiers as text: Excel would turn an 18-digit number into 4.1E+17 and lose digits.
        ws.write_string(i, 8, s.id_number if full_ids else mask_id(s.id_number), text)
        ws.write_string(i, 9, s.registry_no if full_ids else mask_registry_no(s.registry_no), text)
        ws.write_row(i, 10, [
            s.get_status_display(), s.hukou_address, s.address,
            s.residence_township.name if s.residence_township_id else "", s.residence_village,
        ])
        ws.write_string(i, 15, s.phone if s.pk in callable_ids else mask_phone(s.phone), text)
        ws.write_row(i, 16, ["是" if s.boarding else "否", "、".join(str(g) for g in s.current_groups)])
    ws.freeze_panes(1, 0)
    ws.set_column(0, 0, 20)
    ws.set_column(8, 9, 22)
    ws.set_column(11, 12, 30)
    wb.close()

    if students:
        _audit_export(user, students, full_ids)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return xlsx_response(buf.getvalue(), f"学生名册-{stamp}.xlsx")


def _audit_export(user, students: list[Student], full_ids: bool) -> None:
    school_ids = {s.school_id for s in students}
    county_ids = {s.county_id for s in students}
    if len(school_ids) == 1:
        scope = students[0].school
    elif len(county_ids) == 1:
        scope = students[0].county
    else:
        scope = None
    note = f"导出学生名册 {len(students)} 人" + ("（含完整证件号）" if full_ids else "（证件号已遮盖）")
    audit_record(actor=user, action=Action.EXPORT, object_type="student", object_repr="学生名册",
                 note=note, scope_from=scope)


def _student_context(user, student: Student, **extra) -> dict:
    can_edit = selectors.can_edit_student(user, student)
    key_groups = list(student.key_groups.all().order_by("ended_on", "-started_on"))
    ctx = {
        "student": student,
        "can_reveal": selectors.can_reveal_id(user, student),
        "can_see_phone": selectors.can_see_phone(user, student),
        "can_edit": can_edit,
        "can_read_audit": selectors.can_read_audit(user, student.school),
        "family": list(student.family.all()),
        "current_groups": [g for g in key_groups if g.is_current],
        "past_groups": [g for g in key_groups if not g.is_current],
        "mentorships": list(student.mentorships.select_related("mentor").order_by("ended_on", "-started_on")),
        "revealed": None,
        "today": timezone.localdate(),
    }
    if can_edit:
        ctx["family_form"] = FamilyMemberForm()
        ctx["key_group_form"] = KeyGroupAddForm(student=student)
    ctx.update(extra)
    return ctx


@never_cache
@login_required
def student_detail(request, pk):
    student = selectors.get_student_for_user(request.user, pk)
    return render(request, "org/student_detail.html", _student_context(request.user, student))


@never_cache
@login_required
@require_POST
def student_reveal_id(request, pk):
    """Shows the full number on this response only; the service writes the audit row."""
    student = selectors.get_student_for_user(request.user, pk)
    if not selectors.can_reveal_id(request.user, student):
        raise Http404("没有找到该学生")
    number = services.student_reveal_id(actor=request.user, student=student)
    return render(request, "org/student_detail.html",
                  _student_context(request.user, student, revealed=number or "（未填写）"))


def _editable_student(user, pk) -> Student:
    student = selectors.get_student_for_user(user, pk)
    if not selectors.can_edit_student(user, student):
        raise Http404("没有找到该学生")
    return student


@never_cache
@login_required
def student_edit(request, pk):
    user = request.user
    student = _editable_student(user, pk)
    if request.method == "POST":
        form = StudentForm(request.POST, instance=student)
        if form.is_valid() and apply_service(form, lambda: services.student_update(actor=user, student=form.instance)):
            messages.success(request, f"已保存 {student.name} 的学籍信息")
            return redirect("student_detail", pk=student.pk)
    else:
        form = StudentForm(instance=student)
    return render(request, "org/student_form.html", {"form": form, "student": student})


@never_cache
@login_required
def family_add(request, pk):
    user = request.user
    student = _editable_student(user, pk)
    form = FamilyMemberForm(request.POST or None, instance=FamilyMember(student=student, school=student.school))
    if request.method == "POST" and form.is_valid():
        if apply_service(form, lambda: services.family_member_save(actor=user, member=form.instance)):
            messages.success(request, f"已添加家庭成员 {form.instance}")
            return redirect("student_detail", pk=student.pk)
    return render(request, "org/family_form.html", {"form": form, "student": student})


@never_cache
@login_required
def family_edit(request, pk, member_pk):
    user = request.user
    student = _editable_student(user, pk)
    member = get_object_or_404(FamilyMember, pk=member_pk, student=student)
    form = FamilyMemberForm(request.POST or None, instance=member)
    if request.method == "POST" and form.is_valid():
        if apply_service(form, lambda: services.family_member_save(actor=user, member=form.instance)):
            messages.success(request, f"已保存家庭成员 {member}")
            return redirect("student_detail", pk=student.pk)
    return render(request, "org/family_form.html", {"form": form, "student": student, "member": member})


@login_required
@require_POST
def family_delete(request, pk, member_pk):
    student = _editable_student(request.user, pk)
    member = get_object_or_404(FamilyMember, pk=member_pk, student=student)
    label = str(member)
    services.family_member_delete(actor=request.user, member=member)
    messages.success(request, f"已删除家庭成员 {label}")
    return redirect("student_detail", pk=student.pk)


@login_required
def key_group_add(request, pk):
    user = request.user
    student = _editable_student(user, pk)
    form = KeyGroupAddForm(request.POST or None, student=student)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        if apply_service(form, lambda: services.key_group_add(
                actor=user, student=student, group=d["group"], started_on=d["started_on"], subtype=d["subtype"],
                disability_level=d["disability_level"], placement=d["placement"], note=d["note"])):
            messages.success(request, f"已将 {student.name} 列入重点群体：{KeyGroup(d['group']).label}")
            return redirect("student_detail", pk=student.pk)
    return render(request, "org/key_group_form.html", {"form": form, "student": student})


@login_required
def key_group_end(request, pk, membership_pk):
    user = request.user
    student = _editable_student(user, pk)
    membership = get_object_or_404(KeyGroupMembership, pk=membership_pk, student=student, ended_on__isnull=True)
    form = KeyGroupEndForm(request.POST or None, initial={"ended_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        if apply_service(form, lambda: services.key_group_end(actor=user, membership=membership,
                                                               ended_on=d["ended_on"], note=d["note"])):
            messages.success(request, f"已结束重点群体记录：{membership}")
            return redirect("student_detail", pk=student.pk)
    return render(request, "org/key_group_end.html", {"form": form, "student": student, "membership": membership})


# ---------------------------------------------------------------- import: upload → preview → confirm

def _import_school(user, code) -> School:
    school = selectors.get_school_for_user(user, code)
    if not selectors.can_import_for_school(user, school):
        raise Http404("没有找到该页面")
    return school


def _batch(school: School, batch_pk) -> ImportBatch:
    return get_object_or_404(ImportBatch, pk=batch_pk, school=school, state=ImportBatch.State.PREVIEWED)


def _import_dir() -> Path:
    path = Path(settings.MEDIA_ROOT) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


@login_required
def import_upload(request, code):
    user = request.user
    school = _import_school(user, code)
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        filename = Path(upload.name.replace("\\", "/")).name
        stored = _import_dir() / f"{uuid.uuid4().hex}{Path(filename).suffix.lower()}"
        with stored.open("wb") as out:
            for chunk in upload.chunks():
                out.write(chunk)
        report = imports.preview_students(str(stored), filename, school)
        batch = ImportBatch.objects.create(
            school=school, uploaded_by=user, filename=filename, stored_path=str(stored),
            summary=report.as_dict() | {"valid_rows_only": form.cleaned_data["valid_rows_only"]},
        )
        return redirect("import_preview", code=school.code, batch_pk=batch.pk)
    recent = ImportBatch.objects.filter(school=school).select_related("uploaded_by").order_by("-uploaded_at")[:10]
    return render(request, "org/import_upload.html", {"school": school, "form": form, "recent": recent})


def _preview_context(school, batch) -> dict:
    s = batch.summary
    problems = s.get("problems", [])
    file_level = any(p["row"] in (None, 1) for p in problems)
    valid_rows_only = s.get("valid_rows_only", False)
    if file_level:
        blocked = "文件无法导入：请按下面的问题改正后重新上传"
    elif s.get("valid_rows", 0) == 0:
        blocked = "文件中没有可导入的有效行"
    elif problems and not valid_rows_only:
        blocked = "文件有问题行：改正后重新上传，或勾选“仅导入有效行”"
    else:
        blocked = ""
    return {"school": school, "batch": batch, "s": s, "problems": problems, "blocked": blocked,
            "valid_rows_only": valid_rows_only, "file_level": file_level}


@login_required
def import_preview(request, code, batch_pk):
    school = _import_school(request.user, code)
    batch = _batch(school, batch_pk)
    if request.method == "POST" and request.POST.get("valid_rows_only") in ("0", "1"):
        # Choosing "valid rows only" after seeing the problems, without uploading again.
        batch.summary = batch.summary | {"valid_rows_only": request.POST["valid_rows_only"] == "1"}
        batch.save(update_fields=["summary"])
        return redirect("import_preview", code=school.code, batch_pk=batch.pk)
    return render(request, "org/import_preview.html", _preview_context(school, batch))


@login_required
def import_problems(request, code, batch_pk):
    """The problem list as .xlsx, from the stored file (so it always matches the file)."""
    school = _import_school(request.user, code)
    batch = get_object_or_404(ImportBatch, pk=batch_pk, school=school)
    if not Path(batch.stored_path).is_file():
        raise Http404("文件已不存在")
    report = imports.preview_students(batch.stored_path, batch.filename, school)
    return xlsx_response(imports.report_xlsx(report), f"问题清单-{Path(batch.filename).stem}.xlsx")


@login_required
@require_POST
def import_confirm(request, code, batch_pk):
    user = request.user
    school = _import_school(user, code)
    with transaction.atomic():
        # Claim the batch with a conditional update, so a double click cannot import it twice.
        claimed = ImportBatch.objects.filter(pk=batch_pk, school=school, state=ImportBatch.State.PREVIEWED).update(
            state=ImportBatch.State.COMMITTED)
        if not claimed:
            messages.info(request, "这个文件已经导入或已取消")
            return redirect("import_upload", code=school.code)
        batch = ImportBatch.objects.get(pk=batch_pk)
        valid_rows_only = batch.summary.get("valid_rows_only", False)
        report = imports.import_students(actor=user, source=batch.stored_path, filename=batch.filename,
                                         school=school, valid_rows_only=valid_rows_only)
        batch.summary = report.as_dict() | {"valid_rows_only": valid_rows_only}
        if not report.committed:
            batch.state = ImportBatch.State.PREVIEWED
        batch.save(update_fields=["summary", "state"])
    if not report.committed:
        # Something changed since the preview (e.g. a student was added elsewhere): show it again.
        messages.error(request, "未导入：文件在确认时发现问题，请查看下面的最新检查结果")
        return redirect("import_preview", code=school.code, batch_pk=batch.pk)
    messages.success(request, f"已导入 {batch.filename}：新增 {report.to_create} 人，更新 {report.to_update} 人，"
                              f"无变化 {report.unchanged} 人" + (f"，跳过问题行 {len(report.bad_rows)} 行" if report.bad_rows else ""))
    return redirect("school_detail", code=school.code)


@login_required
@require_POST
def import_cancel(request, code, batch_pk):
    school = _import_school(request.user, code)
    batch = _batch(school, batch_pk)
    batch.state = ImportBatch.State.CANCELLED
    batch.save(update_fields=["state"])
    # The upload holds personal data that was never imported: do not keep it.
    Path(batch.stored_path).unlink(missing_ok=True)
    messages.info(request, f"已取消导入 {batch.filename}")
    return redirect("import_upload", code=school.code)
