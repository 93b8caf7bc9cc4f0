"""The audit trail page: filter, read and export; nothing here changes or deletes a row.

The trail itself (`baoxue.audit`) sits below every app; its page lives here because who may
read which rows is a question of roles and scopes, which are org's."""

import io

from django import forms
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import FieldDoesNotExist
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone

from baoxue.audit.models import Action, AuditEntry
from baoxue.lib.idcard import mask_id, mask_phone
from baoxue.org import selectors
from baoxue.org.forms import DateInput, mask_registry_no
from baoxue.web import xlsx_response

PAGE_SIZE = 50
EXPORT_LIMIT = 50000

# Values shown masked in the log, as everywhere outside the audited reveal.
MASKS = {"id_number": mask_id, "registry_no": mask_registry_no, "phone": mask_phone}


def _model_for(object_type: str):
    for model in apps.get_models():
        if model._meta.model_name == object_type:
            return model
    return None


def _type_label(object_type: str) -> str:
    model = _model_for(object_type)
    if model is not None:
        return str(model._meta.verbose_name)
    return {"import": "导入", "user": "账号"}.get(object_type, object_type)


def _field_label(model, name: str) -> str:
    if model is not None:
        try:
            label = getattr(model._meta.get_field(name), "verbose_name", None)  # reverse relations have none
        except FieldDoesNotExist:
            label = None
        if label:
            return str(label)
    return {"members": "成员"}.get(name, name)


def _show(value) -> str:
    if value in (None, ""):
        return "（空）"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return "、".join(str(v) for v in value) or "（空）"
    return str(value)


def change_lines(entry: AuditEntry) -> list[tuple[str, str, str]]:
    """(field label, old, new) for display, sensitive numbers masked."""
    model = _model_for(entry.object_type)
    lines = []
    for name, pair in (entry.changes or {}).items():
        old, new = (pair + [None, None])[:2] if isinstance(pair, list) else (None, pair)
        mask = MASKS.get(name)
        if mask:
            old, new = (mask(v) if isinstance(v, str) else v for v in (old, new))
        lines.append((_field_label(model, name), _show(old), _show(new)))
    return lines


class AuditFilterForm(forms.Form):
    date_from = forms.DateField(label="从", required=False, widget=DateInput())
    date_to = forms.DateField(label="到", required=False, widget=DateInput())
    action = forms.ChoiceField(label="操作", required=False, choices=[("", "全部")] + list(Action.choices))
    actor = forms.ChoiceField(label="操作人", required=False)
    object_type = forms.ChoiceField(label="对象类型", required=False)
    student = forms.CharField(label="学生", required=False,
                              widget=forms.TextInput(attrs={"placeholder": "学生姓名或学籍号", "type": "search"}))
    student_id = forms.IntegerField(required=False, widget=forms.HiddenInput())

    def __init__(self, entries, *args, **kwargs):
        super().__init__(*args, **kwargs)
        actor_ids = entries.exclude(actor=None).values_list("actor_id", flat=True).distinct()
        users = get_user_model().objects.filter(pk__in=actor_ids).order_by("username")
        self.fields["actor"].choices = [("", "全部")] + [
            (str(u.pk), f"{u.get_full_name() or u.username}（{u.username}）") for u in users
        ]
        types = sorted(set(entries.values_list("object_type", flat=True).distinct()))
        self.fields["object_type"].choices = [("", "全部")] + [(t, _type_label(t)) for t in types if t]

    def entries(self, user, entries):
        if not self.is_valid():
            return entries.none()  # a filter that cannot be read matches nothing, as on the student list
        d = self.cleaned_data
        if d["date_from"]:
            entries = entries.filter(at__date__gte=d["date_from"])
        if d["date_to"]:
            entries = entries.filter(at__date__lte=d["date_to"])
        if d["action"]:
            entries = entries.filter(action=d["action"])
        if d["actor"]:
            entries = entries.filter(actor_id=d["actor"])
        if d["object_type"]:
            entries = entries.filter(object_type=d["object_type"])
        if d["student_id"]:
            entries = entries.filter(student_id=d["student_id"])
        if d["student"]:
            entries = entries.filter(student_id__in=selectors.search_students(user, d["student"]).values("pk"))
        return entries


def _entries(request):
    scope = selectors.audit_scope(request.user)
    if scope is None:
        raise Http404("没有找到该页面")
    entries = AuditEntry.objects.filter(scope)
    form = AuditFilterForm(entries, request.GET)
    return form, form.entries(request.user, entries).select_related("actor")


@login_required
def entry_list(request):
    form, entries = _entries(request)
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(e, change_lines(e)) for e in page.object_list]
    query = request.GET.copy()
    query.pop("page", None)
    student = None
    if form.is_valid() and form.cleaned_data["student_id"]:
        student = selectors.students_for_user(request.user).filter(pk=form.cleaned_data["student_id"]).first()
    return render(request, "audit/entry_list.html", {
        "form": form, "page": page, "rows": rows, "query": query.urlencode(), "student": student,
    })


@login_required
def entry_export(request):
    import xlsxwriter

    _, entries = _entries(request)
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    ws = wb.add_worksheet("操作日志")
    bold = wb.add_format({"bold": True})
    ws.write_row(0, 0, ["时间", "操作人", "操作", "对象类型", "对象", "变更（旧值 → 新值）", "说明"], bold)
    for i, e in enumerate(entries[:EXPORT_LIMIT], start=1):
        changes = "\n".join(f"{label}：{old} → {new}" for label, old, new in change_lines(e))
        ws.write_row(i, 0, [
            timezone.localtime(e.at).strftime("%Y-%m-%d %H:%M:%S"), e.actor_name, e.get_action_display(),
            _type_label(e.object_type), e.object_repr, changes, e.note,
        ])
    ws.freeze_panes(1, 0)
    ws.set_column(0, 0, 20)
    ws.set_column(1, 4, 14)
    ws.set_column(5, 6, 50)
    wb.close()

    return xlsx_response(buf.getvalue(), f"操作日志-{timezone.localtime():%Y%m%d-%H%M}.xlsx")
