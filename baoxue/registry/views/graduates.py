"""Pages of 小学毕业学籍未接续核查: the list with its "应上尽上" counts and the upload, the
upload's preview (upload → preview → confirm, like the student import), one graduate with the
result form (逐一销账), and the export.

Reads and access go through `baoxue.registry.graduates` (outsiders get a 404); writes through its
`import_graduates` and `graduate_record_result`, which write the audit rows.
"""

import json
import os
import re
import types
import uuid
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, Q, Value, When
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from baoxue.audit.models import Action
from baoxue.audit.services import audit_record
from baoxue.cases.forms import check_attachment
from baoxue.cases.models import Case as DropoutCase
from baoxue.org.forms import IMPORT_EXTENSIONS
from baoxue.org.models import County, School, Township
from baoxue.registry import graduates as g
from baoxue.registry.models import Graduate, GraduateResult
from baoxue.web import apply_service, xlsx_response

PAGE_SIZE = 50
TOKEN = re.compile(r"[0-9a-f]{32}")


def _default_year() -> int:
    """Primary schools graduate in July: before that, the list in hand is last year's."""
    today = timezone.localdate()
    return today.year if today.month >= 7 else today.year - 1


# ---------------------------------------------------------------- forms

class UploadForm(forms.Form):
    file = forms.FileField(label="小学毕业生名单", help_text="各小学报送的毕业生名单：.xlsx、.xls 或 .csv，表头在第1行",
                           widget=forms.ClearableFileInput(attrs={"accept": ",".join(IMPORT_EXTENSIONS)}))
    graduation_year = forms.IntegerField(label="毕业年份", min_value=2000)
    county = forms.ModelChoiceField(label="区县", queryset=County.objects.none(), empty_label=None)

    def __init__(self, *args, counties: list[County], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["graduation_year"].initial = _default_year()
        self.fields["graduation_year"].max_value = timezone.localdate().year
        self.fields["graduation_year"].widget.attrs["max"] = timezone.localdate().year
        self.fields["county"].queryset = County.objects.filter(pk__in=[c.pk for c in counties]).order_by("code")
        if len(counties) == 1:
            self.fields["county"].initial = counties[0]
            self.fields["county"].widget = forms.HiddenInput()

    def clean_file(self):
        f = self.cleaned_data["file"]
        if not f.name.lower().endswith(IMPORT_EXTENSIONS):
            raise forms.ValidationError("不支持的文件类型：请上传 .xlsx、.xls 或 .csv 文件")
        if f.size > settings.IMPORT_MAX_BYTES:
            raise forms.ValidationError(f"文件过大（{f.size / 1024 / 1024:.1f} MB），上限为 "
                                        f"{settings.IMPORT_MAX_BYTES // 1024 // 1024} MB")
        return f


STATUS_CHOICES = [("", "全部"), ("open", "待核查"), ("continued", "已接续"), ("closed", "已销账")]


class FilterForm(forms.Form):
    year = forms.TypedChoiceField(label="毕业年份", required=False, coerce=int, empty_value=None)
    status = forms.ChoiceField(label="状态", required=False, choices=STATUS_CHOICES)
    school = forms.ChoiceField(label="毕业小学", required=False)
    township = forms.ModelChoiceField(label="乡镇", required=False, queryset=Township.objects.none(), empty_label="全部")
    result = forms.ChoiceField(label="核查结果", required=False,
                               choices=[("", "全部")] + list(GraduateResult.choices))

    def __init__(self, data, *, graduates, county: County, years: list[int]):
        super().__init__(data)
        self.fields["year"].choices = [(y, f"{y}年") for y in years] + [("", "全部年份")]
        schools = sorted(set(graduates.values_list("primary_school", flat=True)))
        self.fields["school"].choices = [("", "全部")] + [(s, s) for s in schools]
        self.fields["township"].queryset = Township.objects.filter(county=county).order_by("name")

    def filter(self, qs):
        if not self.is_valid():
            return qs
        d = self.cleaned_data
        if d["year"]:
            qs = qs.filter(upload__graduation_year=d["year"])
        if d["status"] == "open":
            qs = qs.filter(matched_by="", closed_on__isnull=True)
        elif d["status"] == "continued":
            qs = qs.exclude(matched_by="")
        elif d["status"] == "closed":
            qs = qs.filter(closed_on__isnull=False)
        if d["school"]:
            qs = qs.filter(primary_school=d["school"])
        if d["township"]:
            qs = qs.filter(township=d["township"])
        if d["result"]:
            qs = qs.filter(result=d["result"])
        return qs

    @property
    def is_filtered(self) -> bool:
        return self.is_valid() and any(self.cleaned_data[k] for k in ("status", "school", "township", "result"))


class ResultForm(forms.Form):
    result = forms.ChoiceField(label="核查结果", choices=g.RECORDABLE_RESULTS, widget=forms.RadioSelect)
    result_school = forms.CharField(label="就读学校", max_length=100, required=False,
                                    help_text="在外地就读、在本县其他学校就读时必填")
    result_place = forms.CharField(label="就读地", max_length=100, required=False,
                                   help_text="在外地就读时必填：省、市、县，例如 浙江省宁波市鄞州区")
    responsible_school = forms.ModelChoiceField(
        label="负责劝返的初中学校", queryset=School.objects.none(), required=False, empty_label="（请选择）",
        help_text="选择“辍学”时：学生在这所学校建档，立即纳入辍学学生劝返台账，并报告乡镇政府和县教体局")
    note = forms.CharField(label="说明", max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 3}),
                           help_text="核查经过、证明材料的来源；选择“其他”时必填")
    proof = forms.FileField(label="证明材料", required=False, help_text="学籍证明、在读证明等的照片、PDF 或 Word，不超过 10 MB")

    def __init__(self, *args, graduate: Graduate, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["responsible_school"].queryset = School.objects.filter(
            county_id=graduate.county_id, stage__in=g.JUNIOR_STAGES).order_by("township__name", "code")
        self.fields["responsible_school"].initial = g.default_responsible_school(graduate)

    def clean_proof(self):
        return check_attachment(self.cleaned_data.get("proof"))


# ---------------------------------------------------------------- the list, with the upload

def _county_for(request, counties: list[County]) -> County:
    code = request.GET.get("county")
    return next((c for c in counties if c.code == code), counties[0])


def _listing(request):
    """The user's graduates of one county, the filter form and the filtered rows (open first)."""
    user = request.user
    counties = g.graduate_counties_for_user(user)
    if not counties:
        raise Http404("没有找到该页面")
    county = _county_for(request, counties)
    scoped = g.graduates_for_user(user).filter(county=county)
    years = sorted(set(scoped.values_list("upload__graduation_year", flat=True).distinct()), reverse=True)
    data = request.GET.copy()
    if "year" not in data and years:
        data["year"] = str(years[0])
    form = FilterForm(data, graduates=scoped, county=county, years=years)
    # Open work items first, then those closed after investigation, then those found in a junior school.
    rows = form.filter(scoped).annotate(
        work_order=Case(When(~Q(matched_by=""), then=Value(2)), When(closed_on__isnull=False, then=Value(1)),
                        default=Value(0), output_field=IntegerField()),
    ).order_by("work_order", "primary_school", "upload_id", "row")
    year = form.cleaned_data.get("year") if form.is_valid() else None
    return types.SimpleNamespace(user=user, counties=counties, county=county, scoped=scoped, years=years, form=form,
                                 rows=rows, year=year)


@never_cache
@login_required
def graduate_list(request):
    view = _listing(request)
    user, county = view.user, view.county
    manage_counties = [c for c in view.counties if g.can_manage_graduates(user, c)]
    upload_form = None
    if manage_counties:
        upload_form = UploadForm(request.POST or None, request.FILES or None, counties=manage_counties,
                                 initial={"county": county if county in manage_counties else manage_counties[0]})
    if request.method == "POST":
        if upload_form is None:
            raise Http404("没有找到该页面")
        if upload_form.is_valid():
            token = _store_upload(user, upload_form.cleaned_data)
            return redirect("graduate_preview", token=token)
    page = Paginator(view.rows.select_related("upload", "township", "matched_student__school"),
                     PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    counts = g.graduate_counts(None, view.year, graduates=view.scoped)
    export_query = query.copy()
    if view.year and "year" not in export_query:
        export_query["year"] = str(view.year)
    return render(request, "registry/graduate_list.html", {
        "county": county, "counties": view.counties, "form": view.form, "page": page, "year": view.year,
        "counts": counts, "upload_form": upload_form,
        "closed_summary": [(GraduateResult(v).label, n) for v, n in counts["by_result"].items() if n],
        "query": query.urlencode(), "export_query": export_query.urlencode(),
        "pending": _pending_uploads(user),
    })


@login_required
def graduate_export(request):
    """The filtered list as .xlsx; ID numbers in full only for those doing the registry work."""
    view = _listing(request)
    full_ids = g.can_see_full_ids(view.user, view.county)
    rows = list(view.rows.select_related("upload", "township", "matched_student__school"))
    audit_record(actor=view.user, action=Action.EXPORT, object_type="graduate", object_repr="小学毕业生核查",
                 scope_from=view.county,
                 note=f"导出小学毕业生核查 {len(rows)} 条" + ("（含完整证件号）" if full_ids else "（证件号已遮盖）"))
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return xlsx_response(g.graduates_xlsx(rows, full_ids=full_ids), f"小学毕业生核查-{view.county.name}-{stamp}.xlsx")


# ---------------------------------------------------------------- upload → preview → confirm

def _upload_dir() -> Path:
    path = Path(settings.MEDIA_ROOT) / "graduate_imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _store_upload(user, data: dict) -> str:
    """Keep the file until it is confirmed or cancelled, with the dry run's report beside it."""
    upload = data["file"]
    filename = Path(upload.name.replace("\\", "/")).name
    token = uuid.uuid4().hex
    stored = _upload_dir() / f"{token}{Path(filename).suffix.lower()}"
    with stored.open("wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    county, year = data["county"], data["graduation_year"]
    report = g.import_graduates(actor=user, source=str(stored), filename=filename, county=county,
                                graduation_year=year, dry_run=True)
    meta = {"token": token, "stored": stored.name, "filename": filename, "county_id": county.pk, "year": year,
            "user_id": user.pk, "uploaded_at": timezone.now().isoformat(), "report": report.as_dict()}
    _meta_path(token).write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    return token


def _meta_path(token: str) -> Path:
    return _upload_dir() / f"{token}.json"


def _pending(user, token: str) -> dict:
    """A previewed upload of this user (admins see any); anything else is a 404."""
    if not TOKEN.fullmatch(token or ""):
        raise Http404("没有找到该文件")
    try:
        meta = json.loads(_meta_path(token).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise Http404("没有找到该文件")
    if meta["user_id"] != user.pk or not g.can_manage_graduates(user, meta["county_id"]):
        raise Http404("没有找到该文件")
    return meta


def _pending_uploads(user) -> list[dict]:
    """The user's uploads still waiting for confirmation, newest first."""
    folder = Path(settings.MEDIA_ROOT) / "graduate_imports"
    if not folder.is_dir():
        return []
    found = []
    for path in folder.glob("*.json"):
        try:
            meta = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if meta.get("user_id") == user.pk:
            found.append(meta)
    return sorted(found, key=lambda m: m["uploaded_at"], reverse=True)[:10]


def _blocked(report: dict) -> str:
    if any(p["row"] in (None, 1) for p in report["problems"]):
        return "文件无法导入：请按下面的问题改正后重新上传"
    if report["problems"]:
        return f"文件有 {len(report['problems'])} 个问题：请改正后重新上传。有问题时不会导入任何一行"
    return ""


@never_cache
@login_required
def graduate_preview(request, token):
    meta = _pending(request.user, token)
    report = meta["report"]
    return render(request, "registry/graduate_preview.html", {
        "meta": meta, "r": report, "problems": report["problems"], "blocked": _blocked(report),
        "county": County.objects.get(pk=meta["county_id"]),
    })


@login_required
def graduate_problems(request, token):
    meta = _pending(request.user, token)
    return xlsx_response(g.problems_xlsx(meta["report"]["problems"]), f"问题清单-{Path(meta['filename']).stem}.xlsx")


def _discard(meta: dict) -> None:
    # The list holds personal data: nothing is kept once it is imported or cancelled.
    (_upload_dir() / meta["stored"]).unlink(missing_ok=True)
    _meta_path(meta["token"]).unlink(missing_ok=True)


@login_required
@require_POST
def graduate_confirm(request, token):
    user = request.user
    meta = _pending(user, token)
    claimed = _upload_dir() / f"{token}.claimed"
    try:
        # Claim the upload by renaming its report, so a double click cannot import it twice.
        os.rename(_meta_path(token), claimed)
    except OSError:
        messages.info(request, "这个文件已经导入或已取消")
        return redirect("graduate_list")
    county = County.objects.get(pk=meta["county_id"])
    try:
        report = g.import_graduates(actor=user, source=str(_upload_dir() / meta["stored"]), filename=meta["filename"],
                                    county=county, graduation_year=meta["year"])
    except Exception:
        os.rename(claimed, _meta_path(token))
        raise
    if not report.committed:
        # Something changed since the preview (another list of the same year, …): show it again.
        meta["report"] = report.as_dict()
        claimed.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        os.rename(claimed, _meta_path(token))
        messages.error(request, "未导入：确认时发现问题，请查看下面的最新检查结果")
        return redirect("graduate_preview", token=token)
    claimed.unlink(missing_ok=True)
    _discard(meta)
    messages.success(request, f"已导入 {meta['filename']}：{report.new_rows} 名毕业生，已接续 {report.continued} 人，"
                              f"待核查 {report.to_check} 人"
                              + (f"；{len(report.already_listed)} 人已在此前的名单中，已跳过" if report.already_listed else ""))
    return redirect(f"{reverse('graduate_list')}?county={county.code}&year={meta['year']}&status=open")


@login_required
@require_POST
def graduate_cancel(request, token):
    meta = _pending(request.user, token)
    _discard(meta)
    messages.info(request, f"已取消导入 {meta['filename']}")
    return redirect("graduate_list")


# ---------------------------------------------------------------- one graduate: 逐一销账

@never_cache
@login_required
def graduate_detail(request, pk):
    user = request.user
    graduate = g.get_graduate_for_user(user, pk)
    can_act = graduate.is_open and g.can_manage_graduates(user, graduate.county_id)
    form = None
    if can_act:
        form = ResultForm(request.POST or None, request.FILES or None, graduate=graduate)
        if request.method == "POST" and form.is_valid():
            d = form.cleaned_data
            if apply_service(form, lambda: g.graduate_record_result(
                    actor=user, graduate=graduate, result=d["result"], result_school=d["result_school"],
                    result_place=d["result_place"], note=d["note"], proof=d["proof"],
                    responsible_school=d["responsible_school"])):
                graduate.refresh_from_db()
                if graduate.result == GraduateResult.DROPPED_OUT:
                    messages.success(request, f"已销账：{graduate.name} 已在{graduate.matched_student.school.name}建档，"
                                              "纳入辍学学生劝返台账，并报告乡镇政府和县教体局")
                else:
                    messages.success(request, f"已销账：{graduate.name}，{graduate.get_result_display()}")
                return redirect("graduate_detail", pk=graduate.pk)
    elif request.method == "POST":
        raise Http404("没有找到该页面")
    case = None
    if graduate.result == GraduateResult.DROPPED_OUT and graduate.matched_student_id:
        case = DropoutCase.objects.filter(student_id=graduate.matched_student_id).order_by("-id").first()
    return render(request, "registry/graduate_detail.html", _detail_context(user, graduate, form=form, case=case))


def _detail_context(user, graduate, *, form=None, case=None, revealed=None) -> dict:
    """The ID number is masked for everyone; those doing the registry work reveal it by an audited
    POST (graduate_reveal_id), shown on that response only, as on a student's page."""
    return {
        "g": graduate, "form": form, "case": case, "status": g.status_text(graduate),
        "can_reveal": g.can_see_full_ids(user, graduate.county_id), "revealed": revealed,
        "matched_by": g.MATCHED_BY.get(graduate.matched_by, ""),
        "ambiguous": graduate.note == g.AMBIGUOUS_NOTE,
    }


@never_cache
@login_required
@require_POST
def graduate_reveal_id(request, pk):
    user = request.user
    graduate = g.get_graduate_for_user(user, pk)
    if not g.can_see_full_ids(user, graduate.county_id):
        raise Http404("没有找到该毕业生")
    audit_record(actor=user, action=Action.REVEAL, obj=graduate, scope_from=graduate.county,
                 note="查看小学毕业生完整身份证件号")
    form = None
    if graduate.is_open and g.can_manage_graduates(user, graduate.county_id):
        form = ResultForm(graduate=graduate)
    case = None
    if graduate.result == GraduateResult.DROPPED_OUT and graduate.matched_student_id:
        case = DropoutCase.objects.filter(student_id=graduate.matched_student_id).order_by("-id").first()
    return render(request, "registry/graduate_detail.html",
                  _detail_context(user, graduate, form=form, case=case, revealed=graduate.id_number or "（未填写）"))


@login_required
def graduate_proof(request, pk):
    """The proof of a result, only to those who see the graduate."""
    graduate = g.get_graduate_for_user(request.user, pk)
    if not graduate.proof:
        raise Http404("没有找到证明材料")
    name = Path(graduate.proof.name).name
    inline = Path(name).suffix.lower() in {".jpg", ".jpeg", ".png", ".gif", ".webp", ".pdf"}
    response = FileResponse(graduate.proof.open("rb"), as_attachment=not inline, filename=name)
    response["Cache-Control"] = "no-store"
    return response

