"""Placement decisions (随班就读, 特校就读, 送教上门): a history whose latest is in force, the 残疾
membership carrying it, the basis uploaded by content, an audit row for each step."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from baoxue.audit.models import AuditEntry
from baoxue.org.models import KeyGroup, KeyGroupMembership
from baoxue.special import selectors
from baoxue.special.models import PlacementDecision, SpecialFile
from baoxue.special.services import placement_decide
from tests.special.helpers import exe, pdf

D = dt.date
TODAY = D(2025, 12, 1)


def decide(users, child, on, placement, **extra):
    return placement_decide(actor=users["office"], student=child, decided_on=on, placement=placement,
                            basis="县残疾人教育专家委员会评估意见", today=TODAY, **extra)


def disabled_rows(child):
    return list(KeyGroupMembership.objects.filter(student=child, group=KeyGroup.DISABLED).order_by("started_on", "id"))


def test_it_keeps_the_history_and_the_latest_is_in_force(users, child):
    first = decide(users, child, D(2025, 8, 20), "mainstream")
    second = decide(users, child, D(2025, 10, 10), "home_teaching")
    assert selectors.placement_in_force(child) == second
    assert selectors.decisions_of(child) == [second, first]


def test_a_backdated_decision_joins_the_history_without_replacing_the_one_in_force(users, child):
    decide(users, child, D(2025, 10, 10), "home_teaching")
    before = disabled_rows(child)
    old = decide(users, child, D(2025, 9, 1), "special_school")
    assert selectors.placement_in_force(child).placement == "home_teaching"
    assert [d.decided_on for d in selectors.decisions_of(child)] == [D(2025, 10, 10), D(2025, 9, 1)]
    assert disabled_rows(child) == before
    assert "补录" in AuditEntry.objects.get(object_type="placementdecision", object_id=str(old.pk)).note


def test_the_membership_carries_the_placement_in_force_and_keeps_its_history(users, child):
    decide(users, child, D(2025, 9, 1), "mainstream")
    decide(users, child, D(2025, 10, 10), "home_teaching")
    rows = disabled_rows(child)
    assert [(r.placement, r.started_on, r.ended_on) for r in rows] == [
        ("", D(2025, 9, 1), D(2025, 9, 1)),
        ("mainstream", D(2025, 9, 1), D(2025, 10, 10)),
        ("home_teaching", D(2025, 10, 10), None),
    ]
    # The category and level go along with the new placement.
    assert rows[-1].subtype == "智力残疾" and rows[-1].disability_level == "二"
    # A decision that keeps the placement changes nothing.
    decide(users, child, D(2025, 11, 3), "home_teaching")
    assert len(disabled_rows(child)) == 3


def test_a_child_outside_the_group_is_added_to_it_from_the_decision(users, students):
    lisi = students["lisi"]
    decide(users, lisi, D(2025, 9, 15), "special_school")
    (row,) = disabled_rows(lisi)
    assert (row.placement, row.started_on, row.ended_on) == ("special_school", D(2025, 9, 15), None)


@pytest.mark.parametrize("kwargs, field", [
    ({"decided_on": D(2025, 12, 2)}, "decided_on"),
    ({"basis": "  "}, "basis"),
    ({"placement": "at_home"}, "placement"),
])
def test_it_refuses_a_decision_without_date_basis_or_placement(users, child, kwargs, field):
    values = dict(actor=users["office"], student=child, decided_on=D(2025, 9, 1), placement="mainstream",
                  basis="评估意见", today=TODAY)
    values.update(kwargs)
    with pytest.raises(ValidationError) as e:
        placement_decide(**values)
    assert field in e.value.message_dict
    assert not PlacementDecision.objects.exists()


def test_the_basis_is_stored_under_a_neutral_name(users, child):
    d = decide(users, child, D(2025, 9, 1), "home_teaching", upload=pdf("张三-评估意见.pdf"))
    (f,) = d.files.all()
    assert f.kind == "basis" and f.file_type == "pdf" and f.original_name == "张三-评估意见.pdf"
    assert "张三" not in f.file.name and "评估" not in f.file.name


def test_a_renamed_program_is_refused_and_nothing_is_saved(users, child):
    with pytest.raises(ValidationError) as e:
        decide(users, child, D(2025, 9, 1), "home_teaching", upload=exe("评估意见.pdf"))
    assert "按文件内容判断" in e.value.message_dict["upload"][0]
    assert not PlacementDecision.objects.exists() and not SpecialFile.objects.exists()
    assert disabled_rows(child)[0].placement == ""


def test_each_step_writes_its_audit_row(users, child):
    d = decide(users, child, D(2025, 9, 1), "home_teaching", upload=pdf())
    row = AuditEntry.objects.get(object_type="placementdecision", object_id=str(d.pk))
    assert row.actor == users["office"] and row.student_id == child.pk and row.school_id == child.school_id
    assert row.changes["placement"] == [None, "送教上门"]
    assert AuditEntry.objects.filter(object_type="specialfile", action="create", student_id=child.pk).count() == 1
    # The membership's change is audited by org's services.
    assert AuditEntry.objects.filter(object_type="keygroupmembership", student_id=child.pk).count() == 2
