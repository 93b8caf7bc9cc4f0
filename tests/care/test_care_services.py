"""Each step of care writes its audit row; identity is kept (ended in place, not recreated)."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from baoxue.audit.models import AuditEntry
from baoxue.care import services
from baoxue.care.models import CareCadence, CareForm, RiskMark
from baoxue.org.models import KeyGroup, Membership, Mentorship, Role

from tests.care.conftest import make_user

D = datetime.date


@pytest.fixture(autouse=True)
def today(on_day):
    on_day(D(2025, 10, 20))


def audits(obj_type, **kw):
    return list(AuditEntry.objects.filter(object_type=obj_type, **kw).order_by("id"))


def test_marking_ending_and_planning_are_audited(org):
    mark = services.risk_mark(actor=org.office, student=org.zhangsan, kind=RiskMark.Kind.ABSENCE,
                              reason="九月累计缺勤7天", marked_on=D(2025, 10, 8))
    services.care_plan_set(actor=org.mentor, mark=mark, plan="每周谈心一次，联系父亲")
    services.risk_mark_end(actor=org.office, mark=mark, ended_on=D(2025, 10, 20), note="连续四周全勤")
    mark.refresh_from_db()
    assert mark.plan and mark.ended_on == D(2025, 10, 20) and RiskMark.objects.count() == 1
    rows = audits("riskmark")
    assert [r.action for r in rows] == ["create", "update", "update"]
    assert rows[0].student_id == org.zhangsan.pk and rows[0].actor == org.office
    assert rows[2].changes["ended_on"] == [None, "2025-10-20"]


def test_a_student_is_marked_once_at_a_time_with_a_reason(org):
    with pytest.raises(ValidationError):
        services.risk_mark(actor=org.office, student=org.zhangsan, kind="other", reason=" ", marked_on=D(2025, 10, 1))
    services.risk_mark(actor=org.office, student=org.zhangsan, kind="other", reason="家长反映厌学", marked_on=D(2025, 10, 1))
    with pytest.raises(ValidationError):
        services.risk_mark(actor=org.office, student=org.zhangsan, kind="learning", reason="又一次", marked_on=D(2025, 10, 2))
    with pytest.raises(ValidationError):
        services.risk_mark(actor=org.office, student=org.wangwu, kind="other", reason="x", marked_on=D(2025, 10, 21))


def test_assigning_a_mentor_makes_them_a_mentor_of_the_school_and_ending_keeps_the_row(org):
    ms = services.mentorship_assign(actor=org.office, student=org.zhangsan, mentor=org.head_teacher,
                                    started_on=D(2025, 10, 20))
    assert Membership.objects.filter(user=org.head_teacher, role=Role.MENTOR, school=org.school).exists()
    assert [a.action for a in audits("mentorship")] == ["create"]
    assert audits("membership")[0].note.startswith("指定为 张三")
    with pytest.raises(ValidationError):
        services.mentorship_assign(actor=org.office, student=org.zhangsan, mentor=org.head_teacher,
                                   started_on=D(2025, 10, 20))
    services.mentorship_end(actor=org.office, mentorship=ms, ended_on=D(2025, 10, 20), note="调离")
    ms.refresh_from_db()
    assert ms.ended_on == D(2025, 10, 20) and Mentorship.objects.filter(student=org.zhangsan).count() == 1
    assert [a.action for a in audits("mentorship")] == ["create", "update"]


def test_a_mentor_comes_from_the_schools_staff(org):
    with pytest.raises(ValidationError) as e:
        services.mentorship_assign(actor=org.office, student=org.zhangsan, mentor=org.other_office,
                                   started_on=D(2025, 10, 1))
    assert "本校" in str(e.value)
    with pytest.raises(ValidationError):
        services.mentorship_assign(actor=org.office, student=org.zhangsan, mentor=make_user("x", "外人"),
                                   started_on=D(2025, 10, 1))


def test_records_and_referral_outcomes_are_audited(org):
    r = services.care_record_add(actor=org.mentor, student=org.lisi, date=D(2025, 10, 10), form=CareForm.REFERRAL,
                                 content="情绪低落，转介县心理咨询中心", next_step="两周后回访")
    services.referral_outcome_set(actor=org.mentor, record=r, outcome="已接受三次咨询，情绪好转")
    r.refresh_from_db()
    assert r.referral_outcome.startswith("已接受")
    assert [a.action for a in audits("carerecord")] == ["create", "update"]
    talk = services.care_record_add(actor=org.mentor, student=org.lisi, date=D(2025, 10, 11), form=CareForm.TALK,
                                    content="谈心")
    with pytest.raises(ValidationError):
        services.referral_outcome_set(actor=org.mentor, record=talk, outcome="x")
    with pytest.raises(ValidationError):
        services.care_record_add(actor=org.mentor, student=org.lisi, date=D(2025, 10, 11), form=CareForm.TALK,
                                 content="谈心", referral_outcome="不该有")
    with pytest.raises(ValidationError):
        services.care_record_add(actor=org.mentor, student=org.lisi, date=D(2025, 10, 21), form=CareForm.TALK,
                                 content="明天的谈心")


def test_a_county_cadence_is_one_row_changed_in_place(org):
    services.cadence_set(actor=org.county_official, county=org.county, group=KeyGroup.POOR, every_weeks=None,
                         per_term=True, what="资助核查及走访", forms=[CareForm.AID])
    services.cadence_set(actor=org.county_official, county=org.county, group=KeyGroup.POOR, every_weeks=8,
                         per_term=False, what="资助核查及走访", forms=[CareForm.AID])
    row = CareCadence.objects.get()
    assert row.every_weeks == 8 and not row.per_term
    rows = audits("carecadence")
    assert len(rows) == 2 and rows[1].changes == {"every_weeks": [None, 8], "per_term": [True, False]}
    assert rows[0].county_id == org.county.pk
    with pytest.raises(ValidationError):
        services.cadence_set(actor=org.county_official, county=org.county, group=KeyGroup.POOR, every_weeks=None,
                             per_term=False, what="x", forms=[])
