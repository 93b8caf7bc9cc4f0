"""人籍一致 work items: entries are never deleted, they are closed (销账) with a date, who and why;
each is given an owner; both steps leave an audit row."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from baoxue.audit.models import AuditEntry
from baoxue.org.models import Membership, Role
from baoxue.registry import discrepancies
from baoxue.registry.discrepancies import discrepancy_assign, discrepancy_close
from baoxue.registry.models import Discrepancy, RosterUpload
from tests.conftest import make_user


@pytest.fixture
def item(school, people, students):
    upload = RosterUpload.objects.create(county=school.county, school=school, filename="国网名册.xlsx", rows=2)
    return Discrepancy.objects.create(county=school.county, school=school, category="registered_not_present",
                                      key="G410999201106010011", name="王五", registry_no="G410999201106010011", row=4,
                                      first_upload=upload, last_upload=upload)


def test_it_needs_a_reason_to_close(item, people):
    for note in ("", "   "):
        with pytest.raises(ValidationError) as e:
            discrepancy_close(actor=people["users"]["registrar"], item=item, note=note)
        assert "note" in e.value.error_dict
    item.refresh_from_db()
    assert item.status == "open" and item.closed_on is None
    assert not AuditEntry.objects.exists()


def test_it_closes_with_date_who_and_why_and_an_audit_row(item, people):
    clerk = people["users"]["registrar"]
    closed = discrepancy_close(actor=clerk, item=item, note="已于11月20日在国网办理转出（转往郑州）",
                               on=dt.date(2026, 11, 29))
    item.refresh_from_db()
    assert (item.status, item.closed_on, item.closed_by, item.note) == (
        "closed", dt.date(2026, 11, 29), clerk, "已于11月20日在国网办理转出（转往郑州）")
    assert closed.pk == item.pk
    entry = AuditEntry.objects.get()
    assert entry.actor == clerk and entry.action == "update" and entry.object_type == "discrepancy"
    assert entry.changes["status"] == ["open", "closed"]
    assert entry.school_id == item.school_id and "销账" in entry.note


def test_it_does_not_close_twice(item, people):
    clerk = people["users"]["registrar"]
    discrepancy_close(actor=clerk, item=item, note="已核实")
    with pytest.raises(ValidationError, match="已经销账"):
        discrepancy_close(actor=clerk, item=item, note="再次销账")
    assert AuditEntry.objects.count() == 1


def test_it_assigns_an_owner_of_the_school_with_an_audit_row(item, people):
    office, clerk = people["users"]["office"], people["users"]["registrar"]
    discrepancy_assign(actor=office, item=item, owner=clerk)
    item.refresh_from_db()
    assert item.owner == clerk
    entry = AuditEntry.objects.get()
    assert entry.actor == office and entry.changes["owner"] == ["", "registrar"]
    # Assigning the same person again changes nothing and writes nothing.
    discrepancy_assign(actor=office, item=item, owner=clerk)
    assert AuditEntry.objects.count() == 1
    discrepancy_assign(actor=office, item=item, owner=None)
    item.refresh_from_db()
    assert item.owner is None and AuditEntry.objects.count() == 2


def test_the_owner_must_work_at_the_school(item, people, other_school):
    stranger = make_user("elsewhere")
    Membership.objects.create(user=stranger, role=Role.REGISTRAR, school=other_school, county=other_school.county)
    for owner in (stranger, people["users"]["t71"], people["users"]["county"]):
        with pytest.raises(ValidationError):
            discrepancy_assign(actor=people["users"]["office"], item=item, owner=owner)
    assert not AuditEntry.objects.exists()


def test_a_closed_item_is_not_assigned(item, people):
    discrepancy_close(actor=people["users"]["registrar"], item=item, note="已核实")
    with pytest.raises(ValidationError):
        discrepancy_assign(actor=people["users"]["office"], item=item, owner=people["users"]["registrar"])


def test_the_reads(item, people, school, other_school):
    assert list(discrepancies.open_items(school)) == [item]
    assert discrepancies.open_counts(school)["registered_not_present"] == 1
    assert sum(discrepancies.open_counts(other_school).values()) == 0
    assert {u.username for u in discrepancies.owners_for(school)} == {"office", "registrar", "leader"}
    users = people["users"]
    assert set(discrepancies.schools_for_user(users["county"])) == {school, other_school}
    assert list(discrepancies.schools_for_user(users["registrar"])) == [school]
    for outsider in ("t71", "township", "outsider"):
        assert not discrepancies.schools_for_user(users[outsider]).exists()
    discrepancy_close(actor=users["registrar"], item=item, note="已核实")
    assert not discrepancies.open_items(school).exists()
    assert list(discrepancies.items(school, status="closed")) == [item]
