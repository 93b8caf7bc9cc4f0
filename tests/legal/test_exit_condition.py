"""The exit condition of 义务教育有保障: filed by the office on three joint persuasions or a court
judgment, approved by the county government, and the student counted apart while the case stays
in the dropout ledger."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from baoxue.audit.models import AuditEntry
from baoxue.cases.models import Case, PersuasionAttempt
from baoxue.cases.services import attempt_add, case_resume
from baoxue.legal.models import ExitCondition, LegalPaper
from baoxue.legal.selectors import exit_condition_students, meets_exit_condition
from baoxue.legal.services import (exit_condition_approve, exit_condition_end, exit_condition_file,
                                   joint_attempts)
from tests.legal.conftest import fake_pdf, joint, pdf

D = dt.date
EC = ExitCondition
pytestmark = pytest.mark.usefixtures("media")


def test_two_joint_attempts_are_refused_with_the_reason(org, dropout):
    joint(org, dropout, 2)
    with pytest.raises(ValidationError) as e:
        exit_condition_file(actor=org.office, case=dropout, ground=EC.Ground.JOINT)
    assert e.value.message_dict["ground"] == ["联合劝返仅 2 次（须至少 3 次，每次有校外部门人员参加）"]
    assert not ExitCondition.objects.exists()


def test_only_joint_attempts_with_someone_from_outside_the_school_count(org, dropout):
    joint(org, dropout, 2)
    attempt_add(actor=org.office, case=dropout, date=D(2025, 9, 12), method=PersuasionAttempt.Method.HOME_VISIT,
                participants=[{"name": "村支书", "unit": "村委会"}], result="未返校")
    # The school's own name is the school, not an outside department.
    PersuasionAttempt.objects.create(case=dropout, number=9, date=D(2025, 9, 13), method="joint", result="未返校",
                                     participants=[{"name": "钱主任", "unit": org.school.name}])
    assert joint_attempts(dropout) == 2


def test_three_joint_attempts_are_accepted(org, jointly_persuaded):
    ec = exit_condition_file(actor=org.office, case=jointly_persuaded, ground=EC.Ground.JOINT, on=D(2025, 10, 9))
    assert (ec.state, ec.ground, ec.joint_attempts, ec.filed_by) == (EC.State.FILED, "joint", 3, org.office)
    entry = AuditEntry.objects.get(object_type="exitcondition", object_id=str(ec.pk))
    assert entry.actor == org.office and entry.student_id == org.student_2.pk and "申报" in entry.note


def test_a_judgment_with_its_upload_is_accepted(org, dropout):
    ec = exit_condition_file(actor=org.office, case=dropout, ground=EC.Ground.JUDGMENT, court="示范县人民法院",
                             judgment_on=D(2025, 10, 1), judgment_no="（2025）豫0999民初123号", upload=pdf())
    assert ec.state == EC.State.FILED and ec.judgment.kind == LegalPaper.Kind.JUDGMENT
    # Stored under a neutral name: nothing about the child in the path.
    assert "判决书" not in ec.judgment.file.name and "李四" not in ec.judgment.file.name
    assert ec.judgment.original_name == "判决书.pdf" and ec.judgment.file_type == "pdf"
    assert AuditEntry.objects.filter(object_type="legalpaper", object_id=str(ec.judgment.pk)).exists()


def test_a_judgment_needs_its_paper_checked_by_content(org, dropout):
    kwargs = dict(actor=org.office, case=dropout, ground=EC.Ground.JUDGMENT, court="示范县人民法院",
                  judgment_on=D(2025, 10, 1), judgment_no="（2025）豫0999民初123号")
    with pytest.raises(ValidationError) as e:
        exit_condition_file(**kwargs)
    assert "请上传法院判决书" in e.value.message_dict["upload"][0]
    with pytest.raises(ValidationError) as e:
        exit_condition_file(**kwargs, upload=fake_pdf())
    assert "按文件内容判断" in e.value.message_dict["upload"][0]
    assert not ExitCondition.objects.exists() and not LegalPaper.objects.exists()


def test_only_an_open_dropout_can_be_filed(org, dropout):
    from tests.web.test_cases_helpers import FIRST_WEEK, absent

    suspected = absent(org.school, org.student_1, FIRST_WEEK)
    with pytest.raises(ValidationError, match="辍学学生劝返台账"):
        exit_condition_file(actor=org.office, case=suspected, ground=EC.Ground.JOINT)


def test_approval_counts_the_student_and_the_case_stays_open(org, jointly_persuaded):
    case = jointly_persuaded
    ec = exit_condition_file(actor=org.office, case=case, ground=EC.Ground.JOINT, on=D(2025, 10, 9))
    assert not exit_condition_students(org.county, on=D(2025, 10, 20)).exists()
    ec = exit_condition_approve(actor=org.county_official, ec=ec, approver=EC.Approver.REVITALISATION,
                                on=D(2025, 10, 20), approval_no="示乡振〔2025〕12号", upload=pdf("批复.pdf"))
    assert ec.state == EC.State.APPROVED and ec.approval_paper.kind == LegalPaper.Kind.APPROVAL
    case.refresh_from_db()
    assert case.is_open and case.stage == "dropout"
    assert list(exit_condition_students(org.county, on=D(2025, 10, 20))) == [org.student_2]
    assert list(exit_condition_students(school=org.school, on=D(2025, 10, 20))) == [org.student_2]
    assert not exit_condition_students(org.county, on=D(2025, 10, 19)).exists()
    assert meets_exit_condition([org.student_1.pk, org.student_2.pk], on=D(2025, 11, 1)) == {org.student_2.pk}
    assert AuditEntry.objects.filter(object_type="exitcondition", changes__approval_no__1="示乡振〔2025〕12号").exists()


def test_an_approval_needs_body_date_and_number(org, jointly_persuaded):
    ec = exit_condition_file(actor=org.office, case=jointly_persuaded, ground=EC.Ground.JOINT, on=D(2025, 10, 9))
    with pytest.raises(ValidationError) as e:
        exit_condition_approve(actor=org.county_official, ec=ec, approver="", on=D(2025, 10, 1), approval_no=" ")
    assert set(e.value.message_dict) == {"approver", "approval_no", "on"}


def test_a_return_ends_the_count_from_that_day(org, jointly_persuaded):
    case = jointly_persuaded
    ec = exit_condition_file(actor=org.office, case=case, ground=EC.Ground.JOINT, on=D(2025, 10, 9))
    exit_condition_approve(actor=org.county_official, ec=ec, approver=EC.Approver.COUNTY_GOVERNMENT,
                           on=D(2025, 10, 20), approval_no="示政〔2025〕3号")
    case_resume(actor=org.office, case=Case.objects.get(pk=case.pk), on=D(2025, 11, 3), note="返校")
    assert exit_condition_students(org.county, on=D(2025, 11, 2)).exists()
    assert not exit_condition_students(org.county, on=D(2025, 11, 3)).exists()


def test_withdrawal_keeps_the_record_and_a_new_filing_changes_it_in_place(org, jointly_persuaded):
    ec = exit_condition_file(actor=org.office, case=jointly_persuaded, ground=EC.Ground.JOINT, on=D(2025, 10, 9))
    with pytest.raises(ValidationError):
        exit_condition_end(actor=org.office, ec=ec, state=EC.State.WITHDRAWN, reason="")
    ec = exit_condition_end(actor=org.office, ec=ec, state=EC.State.WITHDRAWN, reason="材料不全，补充后再报")
    assert (ec.state, ec.ended_reason) == (EC.State.WITHDRAWN, "材料不全，补充后再报")
    again = exit_condition_file(actor=org.office, case=jointly_persuaded, ground=EC.Ground.JOINT)
    assert again.pk == ec.pk and again.state == EC.State.FILED and again.ended_reason == ""
    assert ExitCondition.objects.count() == 1
    notes = list(AuditEntry.objects.filter(object_type="exitcondition").values_list("note", flat=True))
    assert "材料不全，补充后再报" in notes and len(notes) == 3


def test_refusal_keeps_the_record(org, jointly_persuaded):
    ec = exit_condition_file(actor=org.office, case=jointly_persuaded, ground=EC.Ground.JOINT, on=D(2025, 10, 9))
    ec = exit_condition_end(actor=org.county_official, ec=ec, state=EC.State.REFUSED, reason="监护人已同意返校")
    assert ec.state == EC.State.REFUSED and ec.ended_by == org.county_official
    with pytest.raises(ValidationError):
        exit_condition_approve(actor=org.county_official, ec=ec, approver="county_government",
                               on=D(2025, 10, 20), approval_no="x")
    assert not exit_condition_students(org.county).exists()


def test_one_filing_at_a_time(org, jointly_persuaded):
    exit_condition_file(actor=org.office, case=jointly_persuaded, ground=EC.Ground.JOINT)
    with pytest.raises(ValidationError, match="已申报"):
        exit_condition_file(actor=org.office, case=jointly_persuaded, ground=EC.Ground.JOINT)


def test_deleting_a_case_takes_its_legal_rows_with_it(org, dropout):
    """The demo's reset deletes cases: papers protected by a filing go with them."""
    from baoxue.legal.services import legal_step_record

    exit_condition_file(actor=org.office, case=dropout, ground=EC.Ground.JUDGMENT, court="示范县人民法院",
                        judgment_on=D(2025, 10, 1), judgment_no="（2025）豫0999民初1号", upload=pdf())
    legal_step_record(actor=org.office, case=dropout, kind="order", date=D(2025, 10, 2), issued_by="留固镇人民政府",
                      upload=pdf("通知书.pdf"))
    Case.objects.filter(pk=dropout.pk).delete()
    assert not ExitCondition.objects.exists() and not LegalPaper.objects.exists()
