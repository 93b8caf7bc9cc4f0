"""学期学籍梳理: the deadline two months after the term's start on the real calendar, the reminder
two weeks before, what the review lists, and the two sign-offs."""

import datetime as dt
import io

import openpyxl
import pytest
from django.core.exceptions import ValidationError

from baoxue.audit.models import AuditEntry
from baoxue.calendar.workdays import CalendarMissing
from baoxue.org.models import Membership, Role, Term
from baoxue.registry.changes import registry_change_record
from baoxue.registry.models import (
    Category,
    ChangeType,
    Discrepancy,
    Graduate,
    GraduateUpload,
    ItemStatus,
    RosterUpload,
)
from baoxue.registry.review import (
    current_term,
    review_build,
    review_due,
    review_reminder_on,
    review_sign,
    review_xlsx,
)
from tests.conftest import approved_application

D = dt.date


def a_term(school, start, name="2025-2026-1", end=None):
    return Term(school=school, name=name, start=start, end=end or start + dt.timedelta(days=140))


def test_two_months_after_a_start_on_a_saturday_moves_to_monday(school):
    # 2025-11-01 is a Saturday: the deadline is Monday 2025-11-03.
    assert review_due(a_term(school, D(2025, 9, 1))) == D(2025, 11, 3)


def test_a_deadline_in_the_national_day_holiday_moves_after_it(school):
    # 2025-10-01 to 10-08 is the National Day and Mid-Autumn holiday.
    assert review_due(a_term(school, D(2025, 8, 1))) == D(2025, 10, 9)


def test_a_day_the_month_lacks_is_the_months_last_day(school):
    # 2025-12-31 + two months: February has no 31st, so 2026-02-28 — a Saturday, but a
    # make-up workday (调休上班) after the Spring Festival, so it stays.
    assert review_due(a_term(school, D(2025, 12, 31))) == D(2026, 2, 28)


def test_a_working_day_stays(school):
    assert review_due(a_term(school, D(2025, 9, 3))) == D(2025, 11, 3)


def test_the_reminder_is_two_weeks_before(school):
    assert review_reminder_on(a_term(school, D(2025, 9, 1))) == D(2025, 10, 20)


def test_a_year_without_calendar_is_an_error_not_a_guess(school):
    with pytest.raises(CalendarMissing, match="2027年"):
        review_due(a_term(school, D(2026, 11, 20), name="2026-2027-1"))


def test_the_current_term_is_the_one_that_started_last(school, term):
    later = Term.objects.create(school=school, name="2025-2026-2", start=D(2026, 3, 2), end=D(2026, 7, 10))
    assert current_term(school, D(2025, 10, 1)) == term
    assert current_term(school, D(2026, 11, 29)) == later


# ---------------------------------------------------------------- what the review lists

@pytest.fixture
def clerk(people):
    return people["users"]["registrar"]


@pytest.fixture
def upload(school, county):
    return RosterUpload.objects.create(county=county, school=school, filename="国网学籍名册.xlsx", rows=820,
                                       counts={"consistent": 815, "registered_not_present": 2, "mismatched": 3})


def test_the_summary_lists_the_terms_changes_and_open_items(school, term, students, clerk, upload, county):
    in_term = registry_change_record(actor=clerk, student=students["zhangsan"], change_type=ChangeType.SUSPEND,
                                     date=D(2025, 10, 13), reason="因病休学", application=approved_application(students["zhangsan"], D(2025, 10, 13)))
    before = registry_change_record(actor=clerk, student=students["lisi"], change_type=ChangeType.TRANSFER_IN,
                                    date=D(2025, 6, 20), reason="随父母返乡", other_school="外县中学")
    Discrepancy.objects.create(county=county, school=school, category=Category.REGISTERED_NOT_PRESENT, key="G1",
                               name="王五", registry_no="G410999201203050011", first_upload=upload, last_upload=upload)
    Discrepancy.objects.create(county=county, school=school, category=Category.MISMATCHED, key="G2", name="赵六",
                               first_upload=upload, last_upload=upload, status=ItemStatus.CLOSED,
                               closed_on=D(2025, 10, 1))
    gu = GraduateUpload.objects.create(county=county, filename="毕业生.xlsx", graduation_year=2025, rows=2)
    Graduate.objects.create(county=county, upload=gu, row=2, name="钱七", primary_school="城关镇中心小学")
    Graduate.objects.create(county=county, upload=gu, row=3, name="孙八", primary_school="城关镇中心小学",
                            result="elsewhere", closed_on=D(2025, 10, 2))

    review = review_build(school=school, term=term)
    s = review.summary
    assert review.due_on == D(2025, 11, 3)
    assert [c["id"] for c in s["changes"]] == [in_term.pk]
    assert before.pk not in [c["id"] for c in s["changes"]]
    assert s["changes"][0]["type_label"] == "休学" and s["changes"][0]["status_after"] == "休学"
    assert [d["name"] for d in s["discrepancies"]] == ["王五"]
    assert s["discrepancies"][0]["registry_no"] != "G410999201203050011"  # masked in the stored summary
    assert [g["name"] for g in s["graduates"]] == ["钱七"]
    assert s["roster"]["rows"] == 820 and s["roster"]["counts"]["一致"] == 815
    assert s["counts"] == {"changes": 1, "by_type": {"休学": 1}, "national_pending": 1, "provincial_pending": 1,
                           "discrepancies": 1, "by_category": {"在籍不在校（名在人不在）": 1}, "graduates": 1}


def test_building_again_refreshes_until_someone_signs(school, term, students, clerk, people):
    review = review_build(school=school, term=term)
    assert review.summary["counts"]["changes"] == 0
    registry_change_record(actor=clerk, student=students["zhangsan"], change_type=ChangeType.SUSPEND,
                           date=D(2025, 10, 13), reason="因病休学", application=approved_application(students["zhangsan"], D(2025, 10, 13)))
    assert review_build(school=school, term=term).summary["counts"]["changes"] == 1
    review_sign(actor=people["users"]["office"], review=review, as_role="office")
    registry_change_record(actor=clerk, student=students["lisi"], change_type=ChangeType.SUSPEND,
                           date=D(2025, 10, 14), reason="因病休学", application=approved_application(students["lisi"], D(2025, 10, 14)))
    again = review_build(school=school, term=term)
    assert again.pk == review.pk and again.summary["counts"]["changes"] == 1
    assert AuditEntry.objects.filter(object_type="termreview", action="create").count() == 1


def test_a_review_of_another_schools_term_is_refused(school, other_school):
    other_term = Term.objects.create(school=other_school, name="2025-2026-1", start=D(2025, 9, 1), end=D(2026, 1, 23))
    with pytest.raises(ValidationError):
        review_build(school=school, term=other_term)


# ---------------------------------------------------------------- sign-offs

def test_the_office_director_and_the_principal_each_sign_once(school, term, people):
    office, leader = people["users"]["office"], people["users"]["leader"]
    review = review_build(school=school, term=term)
    review_sign(actor=office, review=review, as_role="office")
    review_sign(actor=leader, review=review, as_role="principal")
    review.refresh_from_db()
    assert review.office_signed_by == office and review.office_signed_at
    assert review.principal_signed_by == leader and review.principal_signed_at
    with pytest.raises(ValidationError, match="办公室主任已于"):
        review_sign(actor=office, review=review, as_role="office")
    rows = AuditEntry.objects.filter(object_type="termreview", action="update").order_by("id")
    assert [r.note for r in rows] == ["办公室主任签字", "校长签字"]
    assert [r.actor for r in rows] == [office, leader]
    assert all(r.school_id == school.pk for r in rows)


def test_only_the_right_role_signs(school, term, people):
    review = review_build(school=school, term=term)
    for user, role in [(people["users"]["registrar"], "office"), (people["users"]["office"], "principal"),
                       (people["users"]["county"], "principal"), (people["users"]["admin"], "office")]:
        with pytest.raises(ValidationError, match="只有本校"):
            review_sign(actor=user, review=review, as_role=role)
    with pytest.raises(ValidationError):
        review_sign(actor=people["users"]["leader"], review=review, as_role="janitor")


def test_one_person_does_not_sign_twice_in_two_roles(school, term, people, county):
    office = people["users"]["office"]
    Membership.objects.create(user=office, role=Role.LEADER, school=school, county=county)
    review = review_build(school=school, term=term)
    review_sign(actor=office, review=review, as_role="office")
    with pytest.raises(ValidationError, match="同一人"):
        review_sign(actor=office, review=review, as_role="principal")


def test_the_review_exports_to_xlsx(school, term, students, clerk, people):
    registry_change_record(actor=clerk, student=students["zhangsan"], change_type=ChangeType.SUSPEND,
                           date=D(2025, 10, 13), reason="因病休学", application=approved_application(students["zhangsan"], D(2025, 10, 13)))
    review = review_sign(actor=people["users"]["office"], review=review_build(school=school, term=term),
                         as_role="office")
    wb = openpyxl.load_workbook(io.BytesIO(review_xlsx(review)))
    assert wb.sheetnames == ["概况", "学籍异动", "人籍不一致待办", "小学毕业生未接续"]
    facts = {r[0]: r[1] for r in wb["概况"].iter_rows(min_row=3, values_only=True)}
    assert facts["梳理截止日期"] == "2025-11-03"
    assert facts["本学期学籍异动"] == 1
    assert facts["校长签字"] == "未签字" and facts["办公室主任签字"].startswith("office ")
    rows = list(wb["学籍异动"].iter_rows(min_row=2, values_only=True))
    assert rows[0][1:5] == ("2025-10-13", "张三", "七年级(1)班", "休学")
