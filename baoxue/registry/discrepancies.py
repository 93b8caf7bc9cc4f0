"""The work items of 人籍一致 (`Discrepancy`): who may see them, the reads the pages need, and
the two steps a person takes on an item: give it an owner (负责人), and close it (销账).

A newer roster upload resolves the items it no longer shows (`reconcile._record`); everything
else stays open until someone closes it with a reason: “逐一销账”, entries are never deleted.
"""

import datetime

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from baoxue.audit.models import Action
from baoxue.audit.services import audit_record
from baoxue.org import selectors
from baoxue.org.models import Membership, Role, School
from baoxue.registry.models import Category, Discrepancy, ItemStatus, RosterUpload
from baoxue.registry.reconcile import CATEGORIES, Reconciliation

# Who reads a school's reconciliation: its leaders, office and registry clerk; the county bureau
# for its county; admins. Who works on it (upload, assign, close) is who imports students.
READ_ROLES = (Role.LEADER, Role.OFFICE, Role.REGISTRAR)
# Who can be made responsible for an item: the school staff who do registry work.
OWNER_ROLES = (Role.REGISTRAR, Role.OFFICE, Role.LEADER)
WORK_CATEGORIES = [c for c in CATEGORIES if c != Category.CONSISTENT]


# ---------------------------------------------------------------- access

def schools_for_user(user) -> QuerySet[School]:
    """Schools whose 人籍一致 pages the user may open (head teachers, mentors and townships: none)."""
    if not user.is_authenticated:
        return School.objects.none()
    if selectors.is_admin(user):
        return School.objects.all()
    q = Q(pk__in=[])
    for m in selectors.memberships(user):
        if m.role == Role.COUNTY:
            q |= Q(county_id=m.county_id)
        elif m.role in READ_ROLES:
            q |= Q(pk=m.school_id)
    return School.objects.filter(q)


def get_school_for_user(user, code: str) -> School:
    try:
        return schools_for_user(user).select_related("county").get(code=code)
    except School.DoesNotExist:
        raise Http404("没有找到该学校")


def can_work(user, school: School) -> bool:
    """Upload a roster, assign and close items: the school's office and registry clerk (and admins),
    the same people who import students."""
    return selectors.can_import_for_school(user, school)


def can_reveal_ids(user, school: School) -> bool:
    """Whether these pages show full 全国学籍号 (G + the ID number). Never: a whole roster on
    screen would be a reveal of every ID at once. People are told apart by name, row and the
    masked number; a full number is revealed on the student's page (audited), and the summary
    .xlsx (an audited export) carries them."""
    return False


def get_item_for_user(user, pk) -> Discrepancy:
    try:
        item = Discrepancy.objects.select_related("school__county").get(pk=pk)
    except (Discrepancy.DoesNotExist, ValueError):
        raise Http404("没有找到该待办")
    if not schools_for_user(user).filter(pk=item.school_id).exists():
        raise Http404("没有找到该待办")
    return item


# ---------------------------------------------------------------- reads

def uploads(school: School) -> QuerySet[RosterUpload]:
    return RosterUpload.objects.filter(school=school).select_related("uploaded_by").order_by("-uploaded_at", "-id")


def latest_upload(school: School) -> RosterUpload | None:
    return uploads(school).first()


def items(school: School, *, category: str = "", status: str = ItemStatus.OPEN) -> QuerySet[Discrepancy]:
    """The school's work items, filtered by category and status ("" or "all": every status)."""
    qs = Discrepancy.objects.filter(school=school)
    if category:
        qs = qs.filter(category=category)
    if status and status != "all":
        qs = qs.filter(status=status)
    return (qs.select_related("owner", "closed_by", "first_upload", "student__school_class__grade")
            .order_by("category", "row", "id"))


def open_items(school: School) -> QuerySet[Discrepancy]:
    return items(school, status=ItemStatus.OPEN)


def open_counts(school: School) -> dict[str, int]:
    """Open items per category, every work category present (0 when none)."""
    found = dict(Discrepancy.objects.filter(school=school, status=ItemStatus.OPEN)
                 .values_list("category").annotate(n=Count("id")))
    return {c: found.get(c, 0) for c in WORK_CATEGORIES}


def owners_for(school: School) -> QuerySet:
    """People who can be made responsible for an item of this school, by name."""
    ids = Membership.objects.filter(school=school, role__in=OWNER_ROLES).values("user_id")
    return get_user_model().objects.filter(pk__in=ids, is_active=True).order_by("first_name", "username")


def diff_preview(result: Reconciliation) -> dict[str, int]:
    """What confirming this result would do to the open items: new, resolved, still open.

    The same bookkeeping as `reconcile._record`, without writing: an item is identified by its
    category and key; an open item the new roster no longer shows is resolved."""
    seen = {(c, p.key) for c in WORK_CATEGORIES for p in result.people[c]}
    open_keys = set(Discrepancy.objects.filter(school=result.school, status=ItemStatus.OPEN)
                    .values_list("category", "key"))
    return {"new": len(seen - open_keys), "resolved": len(open_keys - seen), "still_open": len(seen & open_keys)}


# ---------------------------------------------------------------- services

def _claim_open(item: Discrepancy) -> Discrepancy:
    """The item, locked and re-read, if it is still open: two people never close it twice."""
    fresh = Discrepancy.objects.select_for_update().filter(pk=item.pk).first()
    if fresh is None or fresh.status != ItemStatus.OPEN:
        raise ValidationError("这条待办已经销账或已在新名册中解决，无需再处理")
    return fresh


@transaction.atomic
def discrepancy_close(*, actor, item: Discrepancy, note: str, on: datetime.date | None = None) -> Discrepancy:
    """销账: the item is closed by a person, with the reason written down (never deleted)."""
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": "销账须写明原因（如：已在国网办理转出、已补录学籍、已核实为同一人）"})
    if len(note) > 300:
        raise ValidationError({"note": "原因最多 300 字"})
    fresh = _claim_open(item)
    user = actor if getattr(actor, "is_authenticated", False) else None
    before = {"status": fresh.status, "note": fresh.note}
    fresh.status, fresh.note = ItemStatus.CLOSED, note
    fresh.closed_on, fresh.closed_by = on or timezone.localdate(), user
    fresh.save(update_fields=["status", "note", "closed_on", "closed_by"])
    audit_record(actor=actor, action=Action.UPDATE, obj=fresh, scope_from=fresh.student or fresh.school,
                 object_repr=_repr(fresh), changes={"status": [before["status"], fresh.status],
                                                    "note": [before["note"], note]},
                 note=f"销账：{note}")
    return fresh


@transaction.atomic
def discrepancy_assign(*, actor, item: Discrepancy, owner) -> Discrepancy:
    """Make someone of the school responsible for an open item (or nobody, with owner=None)."""
    fresh = _claim_open(item)
    if owner is not None and not owners_for(fresh.school).filter(pk=owner.pk).exists():
        raise ValidationError({"owner": "负责人须是本校的学籍管理员、控辍保学办公室人员或学校领导"})
    if fresh.owner_id == (owner.pk if owner else None):
        return fresh
    before = _person(fresh.owner)
    fresh.owner = owner
    fresh.save(update_fields=["owner"])
    audit_record(actor=actor, action=Action.UPDATE, obj=fresh, scope_from=fresh.student or fresh.school,
                 object_repr=_repr(fresh), changes={"owner": [before, _person(owner)]},
                 note=f"负责人：{_person(owner) or '（无）'}")
    return fresh


def _person(user) -> str:
    return (user.get_full_name() or user.get_username()) if user else ""


def _repr(item: Discrepancy) -> str:
    return f"人籍不一致待办 {Category(item.category).label} {item.name or item.registry_no}"
