"""Pages of 人籍一致: a school's reconciliation (the latest roster's counts, what changed, the
upload history and the open work items with 负责人 and 销账), and uploading a 国网 roster export:
upload → preview (a dry run: nothing is written) → confirm.

Reads and access go through `discrepancies`, writes through `reconcile.reconcile` and the
`discrepancies` services (which write the audit rows).
"""

import re
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from baoxue.audit.models import Action
from baoxue.audit.services import audit_record
from baoxue.lib.idcard import mask_registry_no
from baoxue.org.forms import IMPORT_EXTENSIONS
from baoxue.org.models import RegistryStatus, School, Sex, Student
from baoxue.registry import discrepancies
from baoxue.registry.discrepancies import WORK_CATEGORIES
from baoxue.registry.models import Category, ItemStatus, RosterUpload
from baoxue.registry.reconcile import (
    CATEGORIES,
    ReconcileError,
    Reconciliation,
    read_roster,
    reconcile,
    reconcile_rows,
    summary_xlsx,
)
from baoxue.web import apply_service, xlsx_response

GROUP_LIMIT = 50  # items per category on the home page; the category filter shows them all
PAGE_SIZE = 100
PREVIEW_LIMIT = 300  # rows per category on the preview page
HISTORY_LIMIT = 20
TOKEN = re.compile(r"[0-9a-f]{32}")
# An upload never confirmed nor cancelled holds personal data for nothing: removed after a day.
STALE_SECONDS = 24 * 3600

STATUS_FILTERS = [(ItemStatus.OPEN.value, "待处理"), (ItemStatus.CLOSED.value, "已销账"),
                  (ItemStatus.RESOLVED.value, "新名册中已一致"), ("all", "全部")]

# What happens next, per category: every work item says what to do with it.
NEXT_STEP = {
    Category.REGISTERED_NOT_PRESENT: "名在人不在：核实学生是否在校。已离校的在国网办理转出等异动；去向不明的按疑似辍学排查。",
    Category.PRESENT_NOT_REGISTERED: "人在籍不在：在国网办理转入或补录学籍；已不在本校的在本系统更新学籍状态。",
    Category.MISMATCHED: "信息不一致：核对户口簿或身份证，在国网（或本系统）中更正不一致的项。",
    Category.DUPLICATES: "名册内重复：同一人有多条学籍，在国网核实后按“一人一籍”处理重复的学籍。",
    Category.INVALID: "数据有误：在国网改正这一行（证件号、姓名等）后重新导出名册。",
}


# ---------------------------------------------------------------- forms

class UploadForm(forms.Form):
    file = forms.FileField(label="国网学籍名册", help_text="全国中小学生学籍信息管理系统导出的 .xlsx、.xls 或 .csv，表头在第1行",
                           widget=forms.ClearableFileInput(attrs={"accept": ",".join(IMPORT_EXTENSIONS)}))

    def clean_file(self):
        f = self.cleaned_data["file"]
        if not f.name.lower().endswith(IMPORT_EXTENSIONS):
            raise forms.ValidationError("不支持的文件类型：请上传 .xlsx、.xls 或 .csv 文件")
        if f.size > settings.IMPORT_MAX_BYTES:
            raise forms.ValidationError(f"文件过大（{f.size / 1024 / 1024:.1f} MB），上限为 "
                                        f"{settings.IMPORT_MAX_BYTES // 1024 // 1024} MB")
        return f


class CloseForm(forms.Form):
    note = forms.CharField(label="销账原因", max_length=300)


class AssignForm(forms.Form):
    owner = forms.ModelChoiceField(label="负责人", queryset=None, required=False, empty_label="（无）")

    def __init__(self, school: School, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = discrepancies.owners_for(school)


# ---------------------------------------------------------------- which school

def _schools(user) -> list[School]:
    schools = list(discrepancies.schools_for_user(user).select_related("county").order_by("code"))
    if not schools:
        raise Http404("没有找到该页面")
    return schools


def _chosen_school(request, schools: list[School]) -> School | None:
    """The school in ?school=CODE, or the user's only school; None lets a county user choose."""
    code = request.POST.get("school") or request.GET.get("school")
    if code:
        return discrepancies.get_school_for_user(request.user, code)
    return schools[0] if len(schools) == 1 else None


def _home_url(school: School, **params) -> str:
    query = urlencode({"school": school.code, **{k: v for k, v in params.items() if v}})
    return f"{reverse('reconcile_home')}?{query}"


def _back(request, school: School) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return _home_url(school)


def _display_no(number: str, can_reveal: bool) -> str:
    return number if can_reveal else mask_registry_no(number or "")


# ---------------------------------------------------------------- the school's page

@login_required
def home(request):
    user = request.user
    schools = _schools(user)
    school = _chosen_school(request, schools)
    if school is None:
        return _school_list(request, schools)

    category = request.GET.get("category", "")
    if category not in WORK_CATEGORIES:
        category = ""
    status = request.GET.get("status", ItemStatus.OPEN)
    if status not in {v for v, _ in STATUS_FILTERS}:
        status = ItemStatus.OPEN
    can_reveal = discrepancies.can_reveal_ids(user, school)
    can_work = discrepancies.can_work(user, school)

    query = {"school": school.code, "category": category, "status": status}
    groups = []
    page = None
    if category:
        page = Paginator(discrepancies.items(school, category=category, status=status), PAGE_SIZE).get_page(
            request.GET.get("page"))
        groups.append(_group(school, category, list(page.object_list), page.paginator.count, can_reveal))
    else:
        for c in WORK_CATEGORIES:
            qs = discrepancies.items(school, category=c, status=status)
            shown = list(qs[:GROUP_LIMIT])
            if shown:
                total = qs.count() if len(shown) == GROUP_LIMIT else len(shown)
                groups.append(_group(school, c, shown, total, can_reveal))

    latest = discrepancies.latest_upload(school)
    history = list(discrepancies.uploads(school)[:HISTORY_LIMIT])
    for u in history:
        u.found = sum(n for c, n in u.counts.items() if c != Category.CONSISTENT)
        u.has_summary = _summary_path(u).is_file()
    open_counts = discrepancies.open_counts(school)
    return render(request, "registry/reconcile_home.html", {
        "school": school, "schools": schools, "latest": latest, "history": history,
        "latest_counts": [(c, Category(c).label, (latest.counts or {}).get(c, 0)) for c in CATEGORIES] if latest else [],
        "open_counts": [(c, Category(c).label, open_counts[c]) for c in WORK_CATEGORIES],
        "open_total": sum(open_counts.values()),
        "groups": groups, "page": page, "category": category, "status": status,
        "categories": [(c, Category(c).label) for c in WORK_CATEGORIES], "status_filters": STATUS_FILTERS,
        "pager_query": urlencode({k: v for k, v in query.items() if v}),
        "here": f"{request.path}?{request.GET.urlencode()}",
        "can_work": can_work, "can_reveal": can_reveal,
        # Closed and resolved items take no more action.
        "show_actions": can_work and status in (ItemStatus.OPEN, "all"),
        "owners": list(discrepancies.owners_for(school)),
    })


def _group(school: School, category: str, items: list, total: int, can_reveal: bool) -> dict:
    known = _by_registry_no(school, {d.registry_no for d in items if d.student_id is None and d.registry_no})
    for d in items:
        d.shown_no = _display_no(d.registry_no, can_reveal)
        s = d.student or known.get(d.registry_no)
        d.linked = s
        d.class_text = s.class_label if s is not None and s.school_class_id else ""
        fields = d.detail.get("fields") or []
        if fields and s is not None:
            d.problem = "、".join(f"{label}（本系统：{_system_value(label, s) or '空'}）" for label in fields)
        else:
            d.problem = "、".join(fields) or d.detail.get("reason", "") or _status_note(category, s)
    return {"category": category, "label": Category(category).label, "next_step": NEXT_STEP[category],
            "items": items, "total": total, "more": total - len(items)}


def _by_registry_no(school: School, numbers: set[str]) -> dict[str, Student]:
    """The school's students with these 全国学籍号: a duplicate or invalid roster row names a
    student the comparison did not link, and the clerk wants to see who it is."""
    if not numbers:
        return {}
    return {s.registry_no: s for s in Student.objects.filter(school=school, registry_no__in=numbers)
            .select_related("school_class__grade")}


def _status_note(category: str, student) -> str:
    if category == Category.REGISTERED_NOT_PRESENT:
        if student is None:
            return "本校学生中没有此人"
        if student.status != RegistryStatus.IN_SCHOOL:
            return f"本系统学籍状态：{student.get_status_display()}"
        return "现场核查未到校"
    if category == Category.PRESENT_NOT_REGISTERED:
        return "在校学生，名册中没有"
    if category == Category.DUPLICATES:
        return "证件号或学籍号在名册中出现多次"
    return ""


def _school_list(request, schools: list[School]):
    """County and admin users: each school's latest roster and open items, to pick one."""
    rows = []
    for school in schools:
        latest = discrepancies.latest_upload(school)
        counts = discrepancies.open_counts(school)
        rows.append({"school": school, "latest": latest, "open": sum(counts.values()), "counts": counts})
    return render(request, "registry/reconcile_schools.html", {
        "rows": rows, "categories": [(c, Category(c).label) for c in WORK_CATEGORIES]})


# ---------------------------------------------------------------- work items

def _item_for_work(request, pk):
    item = discrepancies.get_item_for_user(request.user, pk)
    if not discrepancies.can_work(request.user, item.school):
        raise Http404("没有找到该页面")
    return item


@login_required
@require_POST
def item_close(request, pk):
    item = _item_for_work(request, pk)
    form = CloseForm(request.POST)
    if form.is_valid() and apply_service(form, lambda: discrepancies.discrepancy_close(
            actor=request.user, item=item, note=form.cleaned_data["note"])):
        messages.success(request, f"已销账：{item.name or item.registry_no}（{Category(item.category).label}）")
    else:
        messages.error(request, f"未销账（{item.name or item.registry_no}）：{_errors(form)}")
    return redirect(_back(request, item.school))


@login_required
@require_POST
def item_assign(request, pk):
    item = _item_for_work(request, pk)
    form = AssignForm(item.school, request.POST)
    if form.is_valid() and apply_service(form, lambda: discrepancies.discrepancy_assign(
            actor=request.user, item=item, owner=form.cleaned_data["owner"])):
        owner = form.cleaned_data["owner"]
        who = (owner.get_full_name() or owner.get_username()) if owner else "（无）"
        messages.success(request, f"{item.name or item.registry_no} 的负责人：{who}")
    else:
        messages.error(request, f"未指派（{item.name or item.registry_no}）：{_errors(form)}")
    return redirect(_back(request, item.school))


def _errors(form) -> str:
    texts = [str(m) for errors in form.errors.values() for m in errors]
    return "；".join(texts) or "请检查填写的内容"


# ---------------------------------------------------------------- summary sheet

def _roster_dir() -> Path:
    path = Path(settings.MEDIA_ROOT) / "roster_uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _summary_path(upload: RosterUpload) -> Path:
    """The 底数清、情况明 sheet of an upload, kept as it was when the upload was confirmed (the
    roster itself is not kept: it holds every family's personal data)."""
    return Path(settings.MEDIA_ROOT) / "roster_uploads" / f"summary-{upload.pk}.xlsx"


@login_required
def summary(request, pk):
    upload = get_object_or_404(RosterUpload.objects.select_related("school"), pk=pk)
    if not discrepancies.schools_for_user(request.user).filter(pk=upload.school_id).exists():
        raise Http404("没有找到该页面")
    path = _summary_path(upload)
    if not path.is_file():
        raise Http404("这次比对没有保存汇总表（命令行比对可用 --summary 导出）")
    audit_record(actor=request.user, action=Action.EXPORT, obj=upload, scope_from=upload.school,
                 object_repr=f"人籍一致汇总表 {upload.filename}")
    stamp = upload.uploaded_at.strftime("%Y%m%d")
    return xlsx_response(path.read_bytes(), f"人籍一致汇总-{upload.school.name}-{stamp}.xlsx")


# ---------------------------------------------------------------- upload → preview → confirm

def _work_schools(user) -> list[School]:
    return [s for s in _schools(user) if discrepancies.can_work(user, s)]


def _work_school(request) -> School:
    """The school to upload for: the one chosen, else the first the user may upload for."""
    workable = _work_schools(request.user)
    school = _chosen_school(request, workable) or (workable[0] if workable else None)
    if school is None or not discrepancies.can_work(request.user, school):
        raise Http404("没有找到该页面")
    return school


def _pending(request, token: str) -> tuple[dict, School, Path]:
    """An upload of this session waiting for confirmation: its record, school and stored file."""
    if not TOKEN.fullmatch(token):
        raise Http404("没有找到该上传")
    pending = request.session.get("roster_uploads", {}).get(token)
    if pending is None:
        raise Http404("没有找到该上传")
    school = discrepancies.get_school_for_user(request.user, pending["school"])
    if not discrepancies.can_work(request.user, school):
        raise Http404("没有找到该页面")
    return pending, school, _roster_dir() / f"{token}{pending['ext']}"


def _forget(request, token: str) -> None:
    uploads = request.session.get("roster_uploads", {})
    if uploads.pop(token, None) is not None:
        request.session["roster_uploads"] = uploads


def _remove_stale() -> None:
    cutoff = time.time() - STALE_SECONDS
    for path in _roster_dir().iterdir():
        if not path.name.startswith("summary-") and path.is_file() and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)


@login_required
def upload(request):
    school = _work_school(request)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        _remove_stale()
        f = form.cleaned_data["file"]
        filename = Path(f.name.replace("\\", "/")).name
        token, ext = uuid.uuid4().hex, Path(filename).suffix.lower()
        with (_roster_dir() / f"{token}{ext}").open("wb") as out:
            for chunk in f.chunks():
                out.write(chunk)
        uploads = request.session.get("roster_uploads", {})
        uploads[token] = {"school": school.code, "filename": filename, "ext": ext}
        request.session["roster_uploads"] = uploads
        return redirect("reconcile_preview", token=token)
    return render(request, "registry/reconcile_upload.html", {
        "school": school, "form": form, "schools": _work_schools(request.user),
        "latest": discrepancies.latest_upload(school)})


@never_cache
@login_required
def preview(request, token):
    """检查结果: the whole comparison as `reconcile(dry_run=True)` does it (read, validate,
    compare), keeping the roster rows to show what differs, and what confirming would change."""
    pending, school, path = _pending(request, token)
    ctx = {"school": school, "token": token, "filename": pending["filename"]}
    if not path.is_file():
        _forget(request, token)
        messages.info(request, "这个文件已经确认或已取消")
        return redirect(_home_url(school))
    try:
        roster = read_roster(str(path), pending["filename"], school)
        result = reconcile_rows(school, roster, pending["filename"])
    except ReconcileError as e:
        # The file cannot be reconciled at all: nothing was written, and nothing is kept.
        path.unlink(missing_ok=True)
        _forget(request, token)
        return render(request, "registry/reconcile_preview.html", ctx | {"error": str(e)})
    can_reveal = discrepancies.can_reveal_ids(request.user, school)
    return render(request, "registry/reconcile_preview.html", ctx | {
        "result": result, "can_reveal": can_reveal,
        "counts": [(c, Category(c).label, result.counts[c]) for c in CATEGORIES],
        "sections": _preview_sections(result, roster, can_reveal),
        "diff": discrepancies.diff_preview(result),
    })


def _preview_sections(result: Reconciliation, roster: list, can_reveal: bool) -> list[dict]:
    rows = {r.row: r for r in roster}
    shown = {c: result.people[c][:PREVIEW_LIMIT] for c in WORK_CATEGORIES}
    ids = {p.student_id for people in shown.values() for p in people if p.student_id}
    students = {s.pk: s for s in Student.objects.filter(pk__in=ids).select_related("school_class__grade")}
    known = _by_registry_no(result.school, {p.registry_no for people in shown.values() for p in people
                                            if not p.student_id and p.registry_no})
    sections = []
    for c in WORK_CATEGORIES:
        items = []
        for p in shown[c]:
            student = students.get(p.student_id) or known.get(p.registry_no)
            items.append({
                "row": p.row, "name": p.name, "registry_no": _display_no(p.registry_no, can_reveal),
                "grade": p.grade, "class_text": student.class_label if student and student.school_class_id else "",
                "differences": _differences(p.fields or [], rows.get(p.row), student),
                "reason": p.reason or _status_note(c, student),
            })
        sections.append({"category": c, "label": Category(c).label, "next_step": NEXT_STEP[c], "items": items,
                         "total": len(result.people[c]), "more": len(result.people[c]) - len(items)})
    return sections


def _system_value(label: str, student: Student) -> str:
    """A compared field (`reconcile.COMPARED`'s labels) as this system holds it."""
    cls = student.school_class
    return {
        "姓名": student.name,
        "性别": student.get_sex_display(),
        "出生日期": student.birth_date.isoformat() if student.birth_date else "",
        "年级": cls.grade.name if cls else "",
        "班级": cls.name if cls else "",
    }.get(label, "")


def _differences(labels: list[str], row, student) -> list[tuple[str, str, str]]:
    """(field, in the roster, in this system) for each differing field of a mismatched person."""
    if row is None or student is None:
        return [(label, "", "") for label in labels]
    in_roster = {
        "姓名": row.name,
        "性别": dict(Sex.choices).get(row.sex, ""),
        "出生日期": row.birth_date.isoformat() if row.birth_date else "",
        "年级": row.grade,
        "班级": row.school_class,
    }
    return [(label, in_roster.get(label, ""), _system_value(label, student)) for label in labels]


@login_required
@require_POST
def confirm(request, token):
    pending, school, path = _pending(request, token)
    # Claim the file by renaming it, so a double click cannot record the upload twice.
    claimed = path.with_name(f"{token}.confirming{pending['ext']}")
    try:
        path.rename(claimed)
    except FileNotFoundError:
        _forget(request, token)
        messages.info(request, "这个文件已经确认或已取消")
        return redirect(_home_url(school))
    try:
        result = reconcile(actor=request.user, source=str(claimed), filename=pending["filename"], school=school)
    except ReconcileError as e:
        messages.error(request, f"未记录：{e}")
        return redirect(f"{reverse('reconcile_upload')}?school={school.code}")
    finally:
        claimed.unlink(missing_ok=True)
        _forget(request, token)
    _summary_path(result.upload).write_bytes(summary_xlsx(result))
    messages.success(request, f"已记录 {pending['filename']} 的比对结果：新发现 {result.new_items} 条，"
                              f"已解决 {result.resolved_items} 条，仍未解决 {result.still_open_items} 条")
    return redirect(_home_url(school))


@login_required
@require_POST
def cancel(request, token):
    pending, school, path = _pending(request, token)
    path.unlink(missing_ok=True)
    _forget(request, token)
    messages.info(request, f"已取消 {pending['filename']}，没有记录任何内容")
    return redirect(f"{reverse('reconcile_upload')}?school={school.code}")
