"""Writing audit rows. Every service function that changes data calls `audit_record`
inside its own transaction, so a change and its audit row commit or fail together."""

import datetime
import decimal
from typing import Any

from django.db import models

from baoxue.audit.models import Action, AuditEntry


def _plain(value: Any) -> Any:
    """A JSON-safe form of a field value, readable by a person in the log."""
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def field_values(obj: models.Model, fields: list[str]) -> dict[str, Any]:
    return {name: _plain(getattr(obj, name)) for name in fields}


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """{field: [old, new]} for the fields whose value changed."""
    return {k: [before.get(k), after.get(k)] for k in after if before.get(k) != after.get(k)}


def _is(obj, label: str) -> bool:
    """Whether `obj` is an instance of the model `label` ("org.student"), known by name: the
    audit trail sits below the apps whose rows it records and imports none of them."""
    return isinstance(obj, models.Model) and obj._meta.label_lower == label


def _scope(obj: models.Model | None) -> dict[str, int | None]:
    """The county, school and student keys of an object, found by convention."""
    scope: dict[str, int | None] = {"county_id": None, "school_id": None, "student_id": None}
    if obj is None:
        return scope
    if _is(obj, "org.county"):
        return {"county_id": obj.pk, "school_id": None, "student_id": None}
    if _is(obj, "org.student"):
        return {"county_id": obj.county_id, "school_id": obj.school_id, "student_id": obj.pk}
    if _is(obj, "org.school"):
        return {"county_id": obj.county_id, "school_id": obj.pk, "student_id": None}
    student = getattr(obj, "student", None)
    if _is(student, "org.student"):
        return {"county_id": student.county_id, "school_id": student.school_id, "student_id": student.pk}
    school = getattr(obj, "school", None)
    if _is(school, "org.school"):
        return {"county_id": school.county_id, "school_id": school.pk, "student_id": None}
    scope["county_id"] = getattr(obj, "county_id", None)
    return scope


def audit_record(
    *,
    actor,
    action: Action | str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    changes: dict | None = None,
    note: str = "",
    actor_label: str = "",
    scope_from: models.Model | None = None,
) -> AuditEntry:
    """Write one audit row. `actor` is a user or None (then `actor_label` names the job)."""
    scope = _scope(scope_from if scope_from is not None else obj)
    user = actor if (actor is not None and getattr(actor, "is_authenticated", False)) else None
    return AuditEntry.objects.create(
        actor=user,
        actor_label=actor_label or ("" if user else "系统"),
        action=str(action),
        object_type=object_type or (obj._meta.model_name if obj is not None else ""),
        object_id=object_id or (str(obj.pk) if obj is not None and obj.pk is not None else ""),
        object_repr=(object_repr or (str(obj) if obj is not None else ""))[:200],
        changes={k: [_plain(v) for v in pair] for k, pair in (changes or {}).items()},
        note=note[:300],
        **scope,
    )


def _record_login(sender, request, user, **kwargs) -> None:
    audit_record(actor=user, action=Action.LOGIN, object_type="user", object_id=str(user.pk),
                 object_repr=user.get_username())
