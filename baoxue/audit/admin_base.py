"""The admin site writes the project's audit trail like any other change (全程留痕).

Every ModelAdmin of the project derives from `AuditedModelAdmin` (inlines from
`AuditedInlineMixin`): an add, a change (with the changed fields, old → new) and a delete made in
the admin is an AuditEntry with the superuser as actor, in the admin's own transaction. Django's
own LogEntry rows are still written; the audit trail is the one the county reads.

Sensitive values are stored as the app's services store them and masked wherever the trail is
shown (the audit page, the admin's view of an entry); passwords are never recorded.
"""

from __future__ import annotations

import json

from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.db import models

from baoxue.audit.models import Action
from baoxue.audit.services import _plain, audit_record

# Never written to the trail, not even as a hash.
SECRET_FIELDS = {"password"}


def _message_text(message) -> str:
    """The admin's change message (a list of dicts, or text) as a sentence for the note."""
    if not message:
        return ""
    if isinstance(message, str):
        return message
    return LogEntry(change_message=json.dumps(message)).get_change_message()


def _field(model, name: str):
    try:
        return model._meta.get_field(name)
    except Exception:  # a form field that is not a model field (password1, ...)
        return None


def _value(obj: models.Model, name: str):
    field = _field(type(obj), name)
    if field is None or name in SECRET_FIELDS:
        return None
    if field.many_to_many:
        return sorted(str(x) for x in getattr(obj, name).all()) if obj.pk else []
    if not field.concrete:
        return None
    return _plain(getattr(obj, name))


def _recordable(model, names) -> list[str]:
    out = []
    for name in names:
        field = _field(model, name)
        if field is None or name in SECRET_FIELDS:
            continue
        if field.concrete or field.many_to_many:
            out.append(name)
    return out


def _all_fields(obj: models.Model) -> list[str]:
    return [f.name for f in obj._meta.get_fields()
            if (f.concrete and not f.auto_created and f.name not in SECRET_FIELDS) or (f.many_to_many and f.concrete)]


def _snapshot(obj: models.Model, names) -> dict:
    return {name: _value(obj, name) for name in names}


def _changes(before: dict, after: dict) -> dict:
    return {k: [before.get(k), after.get(k)] for k in after if before.get(k) != after.get(k)}


def _record(request, action, obj, changes=None, note="", object_id=""):
    audit_record(actor=request.user, action=action, obj=obj, changes=changes or {}, object_id=object_id,
                 note=("系统管理：" + note if note else "系统管理")[:300])


class AuditedAdminMixin:
    """Hooks the admin's own logging (log_addition / log_change / log_deletions) to write audit rows.

    The values before a change are read from the database in save_model (before the save);
    those after, in log_change, once the many-to-many fields are saved too.
    """

    def save_model(self, request, obj, form, change):
        if change and obj.pk is not None:
            names = _recordable(type(obj), form.changed_data)
            old = type(obj)._default_manager.filter(pk=obj.pk).first()
            obj._audit_before = (names, _snapshot(old, names) if old is not None else {})
        else:
            obj._audit_before = (_recordable(type(obj), form.changed_data), None)
        super().save_model(request, obj, form, change)

    def log_addition(self, request, obj, message):
        entry = super().log_addition(request, obj, message)
        names, _ = getattr(obj, "_audit_before", (None, None))
        after = _snapshot(obj, names if names is not None else _all_fields(obj))
        _record(request, Action.CREATE, obj, {k: [None, v] for k, v in after.items() if v not in (None, "", [])},
                _message_text(message))
        return entry

    def log_change(self, request, obj, message):
        entry = super().log_change(request, obj, message)
        names, before = getattr(obj, "_audit_before", (None, None))
        changes = _changes(before or {}, _snapshot(obj, names)) if names else {}
        text = _message_text(message)
        if getattr(obj, "_audit_before", None) is None and any(
                "password" in (item.get("changed", {}).get("fields", []) if isinstance(item, dict) else [])
                for item in (message if isinstance(message, list) else [])):
            text = "修改密码"  # the admin's password form: the fact, never the value
        _record(request, Action.UPDATE, obj, changes, text)
        return entry

    def log_deletions(self, request, queryset):
        result = super().log_deletions(request, queryset)
        for obj in queryset:
            before = _snapshot(obj, _all_fields(obj))
            _record(request, Action.DELETE, obj, {k: [v, None] for k, v in before.items() if v not in (None, "", [])})
        return result

    def save_formset(self, request, form, formset, change):
        """Rows added, changed or deleted in an inline are recorded one by one."""
        befores = {}
        for f in formset.forms:
            if f.instance.pk is not None and f.has_changed():
                old = type(f.instance)._default_manager.filter(pk=f.instance.pk).first()
                names = _recordable(type(f.instance), f.changed_data)
                befores[f.instance.pk] = (names, _snapshot(old, names) if old is not None else {})
        deleted = [(obj, str(obj.pk), _snapshot(obj, _all_fields(obj))) for obj in
                   (f.instance for f in getattr(formset, "deleted_forms", []) if f.instance.pk is not None)]
        super().save_formset(request, form, formset, change)
        for obj in formset.new_objects:
            after = _snapshot(obj, _all_fields(obj))
            _record(request, Action.CREATE, obj, {k: [None, v] for k, v in after.items() if v not in (None, "", [])})
        for obj, _fields in formset.changed_objects:
            names, before = befores.get(obj.pk, ([], {}))
            _record(request, Action.UPDATE, obj, _changes(before, _snapshot(obj, names)))
        for obj, pk, before in deleted:
            _record(request, Action.DELETE, obj, {k: [v, None] for k, v in before.items() if v not in (None, "", [])},
                    object_id=pk)


class AuditedModelAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """The base of every ModelAdmin of the project."""
