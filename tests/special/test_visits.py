"""The 送教上门 plan and its visit log: the plan only under a 送教上门 placement, visits within
the plan with the guardian's signature and photos checked by content, each step audited."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from baoxue.audit.models import AuditEntry
from baoxue.special.models import HomeTeachingVisit, SpecialFile
from baoxue.special.services import placement_decide, plan_save, visit_file_add, visit_record
from tests.special.helpers import exe, home_teaching, jpg, pdf, visit

D = dt.date


def test_a_plan_needs_the_home_teaching_placement(users, child):
    placement_decide(actor=users["office"], student=child, decided_on=D(2025, 9, 1), placement="mainstream",
                     basis="评估意见", today=D(2025, 9, 1))
    with pytest.raises(ValidationError) as e:
        plan_save(actor=users["office"], student=child, school_year="2025-2026", start_on=D(2025, 9, 1),
                  end_on=D(2026, 7, 3), visits_per_week=2, hours_per_visit=2, teachers=[users["teacher"]])
    assert "随班就读" in e.value.messages[0]


def test_a_plan_refuses_someone_from_outside_the_school_and_dates_outside_the_year(users, child):
    with pytest.raises(ValidationError) as e:
        home_teaching(users, child, teachers=[users["outsider"]], start_on=D(2024, 9, 1))
    assert "不是本校教职工：outsider" in e.value.message_dict["teachers"][0]
    assert "2025-2026 学年之内" in e.value.message_dict["start_on"][0]


def test_a_changed_plan_is_audited_with_old_and_new_values(users, child):
    plan = home_teaching(users, child)
    assert AuditEntry.objects.filter(object_type="hometeachingplan", action="create").count() == 1
    home_teaching(users, child, visits_per_week=3, teachers=[users["teacher"], users["t71"]])
    plan.refresh_from_db()
    row = AuditEntry.objects.get(object_type="hometeachingplan", action="update")
    assert row.changes["visits_per_week"] == [2, 3]
    assert row.changes["teachers"] == [["周老师"], ["周老师", "李老师"]]


def test_a_visit_with_signature_and_photos(users, child):
    plan = home_teaching(users, child)
    v = visit(users, plan, D(2025, 9, 2), photos=[jpg("1.jpg"), pdf("2.pdf")])
    assert (v.hours, v.content, list(v.teachers.all())) == (Decimal("2.0"), "生活自理训练", [users["teacher"]])
    assert sorted(f.kind for f in v.files.all()) == ["photo", "photo", "signature"]
    assert all(child.name not in f.file.name for f in v.files.all())
    assert AuditEntry.objects.filter(object_type="hometeachingvisit", action="create", student_id=child.pk).count() == 1
    assert AuditEntry.objects.filter(object_type="specialfile", action="create", student_id=child.pk).count() == 3


def test_the_signature_can_follow_later(users, child):
    plan = home_teaching(users, child)
    v = visit(users, plan, D(2025, 9, 2), signed=False)
    visit_file_add(actor=users["teacher"], visit=v, kind="signature", upload=jpg())
    assert v.files.get().kind == "signature"


@pytest.mark.parametrize("where", ["signature", "photos"])
def test_a_renamed_program_is_refused_and_the_visit_not_saved(users, child, where):
    plan = home_teaching(users, child)
    extra = {"signature": exe("签字.jpg")} if where == "signature" else {"photos": [jpg(), exe("照片.png")]}
    with pytest.raises(ValidationError) as e:
        visit_record(actor=users["teacher"], plan=plan, date=D(2025, 9, 2), hours=2, content="识字",
                     teachers=[users["teacher"]], today=D(2025, 9, 3), **extra)
    assert "不是 PDF、JPG 或 PNG 文件" in e.value.message_dict["upload"][0]
    assert not HomeTeachingVisit.objects.exists() and not SpecialFile.objects.exists()


@pytest.mark.parametrize("kwargs, field", [
    ({"date": D(2025, 8, 29)}, "date"),
    ({"date": D(2025, 9, 4)}, "date"),
    ({"hours": 0}, "hours"),
    ({"content": " "}, "content"),
    ({"teachers": []}, "teachers"),
])
def test_a_visit_is_refused_outside_the_plan_or_without_what_it_needs(users, child, kwargs, field):
    plan = home_teaching(users, child)
    values = dict(actor=users["teacher"], plan=plan, date=D(2025, 9, 2), hours=2, content="识字",
                  teachers=[users["teacher"]], today=D(2025, 9, 3))
    values.update(kwargs)
    with pytest.raises(ValidationError) as e:
        visit_record(**values)
    assert field in e.value.message_dict
