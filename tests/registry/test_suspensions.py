"""休学 by the plan's procedure: the papers (one third of the term in school days, bills of at
least 1,000 yuan, a county-level diagnosis), the monthly batch, the bureau's decision, the 国网
steps, the reminder and the end (复学 or 期满未复学), 续休, the 县残联 path and the audit trail."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from hypothesis import given, settings as hsettings, strategies as hst

from baoxue.audit.models import AuditEntry
from baoxue.calendar import workdays
from baoxue.calendar.services import closure_add
from baoxue.cases.models import Case
from baoxue.cases.services import case_open
from baoxue.org.models import RegistryStatus as S, Term
from baoxue.registry import suspensions
from baoxue.registry.changes import (
    RESUME_NATIONAL_FIRST, WHERE_TO_APPLY, registry_change_mark_done, registry_change_record,
)
from baoxue.registry.models import (
    Application, ApplicationFile, BillItem, ChangeType, HospitalLevel, Material, RegistryChange,
)
from baoxue.registry.suspensions import (
    MATERIALS, application_bills_set, application_decide, application_file_add, application_national_step,
    application_start, application_submit, application_update, current_rules, disability_assess,
    disability_decide, missing, parse_amount, reminders, rest_share, resumption_record, suspensions_daily,
)

D = dt.date
St = Application.State
ONE_DAY = dt.timedelta(days=1)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def users(people):
    return people["users"]


@pytest.fixture
def zhangsan(students):
    return students["zhangsan"]


@pytest.fixture
def spring(school):
    """The spring term of 2025, where the default rest (illness) lies."""
    return Term.objects.create(school=school, name="2024-2025-2", start=D(2025, 2, 17), end=D(2025, 7, 4))


def pdf(name="诊断证明.pdf", body=b"%PDF-1.4 scan"):
    return SimpleUploadedFile(name, body, content_type="application/pdf")


def png(name="国网复学成功.png"):
    return SimpleUploadedFile(name, b"\x89PNG\r\n\x1a\n fake", content_type="image/png")


def upload(actor, app, materials):
    for m in materials:
        application_file_add(actor=actor, app=app, material=m, upload=pdf(f"{m}.pdf"))


def fill(actor, app, **extra):
    data = dict(start_on=D(2025, 9, 30), hospital="濮阳市人民医院", hospital_level=HospitalLevel.CITY,
                diagnosed_on=D(2025, 3, 1), rest_from=D(2025, 3, 3), rest_to=D(2025, 5, 30))
    data.update(extra)
    return application_update(actor=actor, app=app, **data)


def complete(actor, student, **extra):
    """A 休学 application with every paper and number (rest in the spring term of 2025)."""
    app = application_start(actor=actor, student=student, illness="急性淋巴细胞白血病")
    fill(actor, app, **extra)
    application_bills_set(actor=actor, app=app, items=[("住院费", "8000.00"), ("药费", "1,280.50")])
    upload(actor, app, MATERIALS[Application.Kind.SUSPEND])
    app.refresh_from_db()
    return app


def approve(users, app, submit_on=D(2025, 9, 10), decided_on=D(2025, 9, 22)):
    application_submit(actor=users["registrar"], app=app, today=submit_on)
    application_decide(actor=users["county"], app=app, approve=True, comment="同意", decided_on=decided_on)
    app.refresh_from_db()
    return app


def national(users, app, done_on=D(2025, 9, 30)):
    for step in ("form", "proof", "reason"):
        application_national_step(actor=users["registrar"], app=app, step=step, done_on=done_on)
    app.refresh_from_db()
    return app


def effective(users, student, **extra):
    """A suspension in effect from 2025-09-30 (to 2026-09-29)."""
    app = complete(users["t71"], student, **extra)
    approve(users, app)
    return national(users, app)


def app_rows(app):
    return AuditEntry.objects.filter(object_type="application", object_id=str(app.pk))


# ---------------------------------------------------------------- one third of the term

def test_one_third_is_counted_in_school_days_without_holidays_and_closures(users, zhangsan, school, term):
    closure = D(2025, 10, 15)
    closure_add(actor=users["office"], date=closure, reason="停电", school=school)
    term_days = len(workdays.school_days(school, term.start, term.end))
    third = term_days // 3
    rest_from = D(2025, 9, 29)
    days = workdays.school_days(school, rest_from, term.end)
    # The holiday and the closure are inside the rest, and are not school days; 调休上班 (Sat 10-11) is.
    assert not any(D(2025, 10, 1) <= d <= D(2025, 10, 8) for d in days)
    assert closure not in days and D(2025, 10, 11) in days

    app = application_start(actor=users["t71"], student=zhangsan, illness="肺结核")
    rules = current_rules(zhangsan.county_id)
    for n, ok in ((third, False), (third + 1, True)):
        rest_to = days[n - 1]
        assert rest_to > closure
        fill(users["t71"], app, start_on=D(2025, 11, 24), diagnosed_on=D(2025, 9, 29), rest_from=rest_from,
             rest_to=rest_to)
        app.refresh_from_db()
        share = rest_share(app, rules)
        # Independently: Mon-Fri in the rest, less the six weekday holidays and the closure, plus 10-11.
        weekdays = sum(1 for i in range((rest_to - rest_from).days + 1) if (rest_from + dt.timedelta(i)).weekday() < 5)
        assert share.rest_days == weekdays - 6 - 1 + 1 == n
        assert share.term_days == term_days and share.term == term
        assert share.ok is ok
        assert f"{term_days} 天" in share.text and f"{n} 天" in share.text
        assert f"至少 {third + 1} 天" in share.text
        gaps = [g for g in missing(app, rules) if "住院或休息时间不足" in g]
        assert bool(gaps) is (not ok)
        if gaps:
            assert f"{term_days} 天" in gaps[0] and f"{n} 天" in gaps[0]


def test_a_rest_outside_every_term_is_refused_with_the_reason(users, zhangsan, term):
    app = application_start(actor=users["t71"], student=zhangsan, illness="肺结核")
    fill(users["t71"], app, rest_from=D(2025, 3, 3), rest_to=D(2025, 5, 30))
    app.refresh_from_db()
    assert any("不在本校任何学期内" in g for g in missing(app))


# ---------------------------------------------------------------- bills

def test_bills_below_one_thousand_are_refused_and_one_thousand_is_enough(users, zhangsan, spring):
    app = complete(users["t71"], zhangsan)
    total = application_bills_set(actor=users["t71"], app=app, items=[("住院费", "900.00"), ("药费", "99.99")])
    assert total == Decimal("999.99")
    gaps = [g for g in missing(app) if "药费" in g]
    assert gaps == ["药费合计 999.99 元，不足 1,000 元"]
    total = application_bills_set(actor=users["t71"], app=app, items=[("住院费", "900.00"), ("药费", "100")])
    assert total == Decimal("1000.00")
    assert missing(app) == []
    assert suspensions.bills_total(app) == Decimal("1000.00")


def test_an_empty_bill_list_is_named(users, zhangsan, spring):
    app = complete(users["t71"], zhangsan)
    application_bills_set(actor=users["t71"], app=app, items=[("", "")])
    assert "未填写药费明细" in missing(app)


@pytest.mark.parametrize("amount, words", [("abc", "不是数字"), ("-5", "须大于 0"), ("0", "须大于 0")])
def test_a_bad_amount_is_refused_with_its_row(users, zhangsan, spring, amount, words):
    app = complete(users["t71"], zhangsan)
    before = list(BillItem.objects.filter(application=app).values_list("item", "amount"))
    with pytest.raises(ValidationError) as e:
        application_bills_set(actor=users["t71"], app=app, items=[("住院费", "1200"), ("药费", amount)])
    [message] = e.value.message_dict["bills"]
    assert message.startswith("第 2 行（药费）") and words in message
    assert list(BillItem.objects.filter(application=app).values_list("item", "amount")) == before


@pytest.mark.parametrize("amount", ["0.001", "0.004", "9999999.999"])
def test_an_amount_that_rounds_out_of_range_is_refused_not_a_server_error(users, zhangsan, spring, amount):
    app = complete(users["t71"], zhangsan)
    with pytest.raises(ValidationError) as e:
        application_bills_set(actor=users["t71"], app=app, items=[("药费", amount)])
    assert e.value.message_dict["bills"][0].startswith("第 1 行（药费）")


@hsettings(max_examples=300, deadline=None)
@given(hst.decimals(allow_nan=True, allow_infinity=True, places=None))
def test_an_accepted_amount_fits_the_column(value):
    try:
        parsed = parse_amount(str(value))
    except ValidationError:
        return
    # The column: DecimalField(max_digits=9, decimal_places=2), CHECK amount > 0.
    assert Decimal("0") < parsed < Decimal("10000000") and parsed == parsed.quantize(Decimal("0.01"))


# ---------------------------------------------------------------- what is missing

def test_an_incomplete_application_is_refused_with_each_missing_item(users, zhangsan, spring):
    app = application_start(actor=users["t71"], student=zhangsan)
    fill(users["t71"], app, hospital_level=HospitalLevel.BELOW)
    application_bills_set(actor=users["t71"], app=app, items=[("住院费", "1500")])
    upload(users["t71"], app, [m for m in MATERIALS[Application.Kind.SUSPEND] if m != Material.DIAGNOSIS])
    with pytest.raises(ValidationError) as e:
        application_submit(actor=users["registrar"], app=app, today=D(2025, 9, 10))
    gaps = e.value.messages
    assert "未上传：县级以上医院诊断证明" in gaps
    assert "诊断证明须由县级以上医院出具（当前为县级以下）" in gaps
    assert any(g.startswith("未填写病名") for g in gaps)
    assert len(gaps) == 3
    app.refresh_from_db()
    assert app.state == St.DRAFT and app.submitted_on is None and app.batch_day is None


def test_missing_names_the_empty_fields(users, zhangsan, spring):
    app = application_start(actor=users["t71"], student=zhangsan, illness="白血病")
    gaps = missing(app)
    for words in ("未填写诊断医院", "未填写诊断医院级别", "未填写诊断日期", "未填写休学开始日期",
                  "未填写住院或休息起止日期", "未填写药费明细", "未上传：学生或家长书面申请",
                  "未上传：休学申请表（教体局存档，盖章签字）"):
        assert words in gaps


# ---------------------------------------------------------------- batch and decision

def test_a_complete_application_joins_the_next_monthly_batch(users, zhangsan, spring):
    app = complete(users["t71"], zhangsan)
    application_submit(actor=users["registrar"], app=app, today=D(2025, 9, 10))
    app.refresh_from_db()
    # 2025-09-20 is a Saturday: the next working day.
    assert (app.state, app.submitted_on, app.batch_day) == (St.SUBMITTED, D(2025, 9, 10), D(2025, 9, 22))


def test_after_the_batch_day_it_joins_next_months(users, zhangsan, spring):
    app = complete(users["t71"], zhangsan)
    application_submit(actor=users["registrar"], app=app, today=D(2025, 9, 23))
    app.refresh_from_db()
    assert app.batch_day == D(2025, 10, 20)


def test_the_bureau_approves(users, zhangsan, spring):
    app = approve(users, complete(users["t71"], zhangsan))
    assert app.state == St.APPROVED and app.decided_by == users["county"] and app.decided_on == D(2025, 9, 22)
    assert not app.decided_on_paper
    zhangsan.refresh_from_db()
    assert zhangsan.status == S.IN_SCHOOL  # nothing in the register before the 国网 steps


def test_a_rejection_goes_back_and_the_same_application_is_resubmitted(users, zhangsan, spring):
    app = complete(users["t71"], zhangsan)
    pk = app.pk
    application_submit(actor=users["registrar"], app=app, today=D(2025, 9, 10))
    with pytest.raises(ValidationError) as e:
        application_decide(actor=users["county"], app=app, approve=False, comment="  ", decided_on=D(2025, 9, 22))
    assert "comment" in e.value.message_dict
    assert Application.objects.get(pk=pk).state == St.SUBMITTED
    application_decide(actor=users["county"], app=app, approve=False, comment="诊断证明无医院公章",
                       decided_on=D(2025, 9, 22))
    app.refresh_from_db()
    assert app.state == St.RETURNED and app.returned_reason == "诊断证明无医院公章"
    # Editable again: a new diagnosis, then submitted again as the same application.
    application_file_add(actor=users["t71"], app=app, material=Material.DIAGNOSIS, upload=pdf("盖章诊断证明.pdf"))
    application_update(actor=users["t71"], app=app, hospital="濮阳市人民医院（盖章）")
    application_submit(actor=users["registrar"], app=app, today=D(2025, 9, 23))
    app.refresh_from_db()
    assert app.pk == pk and Application.objects.filter(student=zhangsan).count() == 1
    assert (app.state, app.batch_day, app.returned_reason) == (St.SUBMITTED, D(2025, 10, 20), "")


def test_a_paper_approval_needs_the_sealed_form(users, zhangsan, spring):
    app = complete(users["t71"], zhangsan)
    application_submit(actor=users["registrar"], app=app, today=D(2025, 9, 10))
    with pytest.raises(ValidationError) as e:
        application_decide(actor=users["registrar"], app=app, approve=True, on_paper=True, decided_on=D(2025, 9, 22))
    assert "approval" in e.value.message_dict
    assert Application.objects.get(pk=app.pk).state == St.SUBMITTED
    application_decide(actor=users["registrar"], app=app, approve=True, on_paper=True, decided_on=D(2025, 9, 22),
                       approval=pdf("审批表.pdf"))
    app.refresh_from_db()
    assert app.state == St.APPROVED and app.decided_on_paper
    assert app.files.filter(material=Material.APPROVAL, replaced_at__isnull=True).count() == 1


def test_a_decision_cannot_precede_the_submission_or_come_in_the_future(users, zhangsan, spring):
    app = complete(users["t71"], zhangsan)
    application_submit(actor=users["registrar"], app=app, today=D(2025, 9, 10))
    with pytest.raises(ValidationError):
        application_decide(actor=users["county"], app=app, approve=True, decided_on=D(2025, 9, 9))
    with pytest.raises(ValidationError):
        application_decide(actor=users["county"], app=app, approve=True, decided_on=D(2030, 1, 1))


# ---------------------------------------------------------------- 国网 steps and the effect

def test_the_national_steps_put_the_suspension_in_effect_and_close_the_case_only_then(users, zhangsan, school, spring):
    case = case_open(student_id=zhangsan.pk, school=school, run_days=[D(2025, 9, 3)])
    app = complete(users["t71"], zhangsan)
    application_submit(actor=users["registrar"], app=app, today=D(2025, 9, 10))
    assert Case.objects.get(pk=case.pk).is_open
    application_decide(actor=users["county"], app=app, approve=True, decided_on=D(2025, 9, 22))
    assert Case.objects.get(pk=case.pk).is_open
    for step, day in (("form", D(2025, 9, 23)), ("proof", D(2025, 9, 24))):
        application_national_step(actor=users["registrar"], app=app, step=step, done_on=day)
        app.refresh_from_db()
        zhangsan.refresh_from_db()
        assert app.state == St.APPROVED and zhangsan.status == S.IN_SCHOOL
        assert Case.objects.get(pk=case.pk).is_open
        assert not RegistryChange.objects.filter(student=zhangsan).exists()
    application_national_step(actor=users["registrar"], app=app, step="reason", done_on=D(2025, 9, 30))
    app.refresh_from_db()
    zhangsan.refresh_from_db()
    assert zhangsan.status == S.SUSPENDED and zhangsan.status_since == app.start_on == D(2025, 9, 30)
    change = RegistryChange.objects.get(student=zhangsan, change_type=ChangeType.SUSPEND)
    assert change.national_done_on == D(2025, 9, 30) and change.date == D(2025, 9, 30)
    assert "急性淋巴细胞白血病" in change.reason
    assert app.state == St.EFFECTIVE and app.change == change
    assert app.ends_on == D(2026, 9, 29)
    case.refresh_from_db()
    assert (case.is_open, case.outcome, case.closed_on) == (False, "suspended", D(2025, 9, 30))


def test_a_step_is_recorded_once_and_not_before_the_decision(users, zhangsan, spring):
    app = approve(users, complete(users["t71"], zhangsan))
    with pytest.raises(ValidationError, match="不能早于审批日期"):
        application_national_step(actor=users["registrar"], app=app, step="form", done_on=D(2025, 9, 21))
    application_national_step(actor=users["registrar"], app=app, step="form", done_on=D(2025, 9, 23))
    with pytest.raises(ValidationError, match="已于 2025-09-23 登记"):
        application_national_step(actor=users["registrar"], app=app, step="form", done_on=D(2025, 9, 24))
    with pytest.raises(ValidationError):
        application_national_step(actor=users["registrar"], app=app, step="other", done_on=D(2025, 9, 24))


def test_no_national_step_before_approval(users, zhangsan, spring):
    app = complete(users["t71"], zhangsan)
    application_submit(actor=users["registrar"], app=app, today=D(2025, 9, 10))
    with pytest.raises(ValidationError, match="不能进行这一步"):
        application_national_step(actor=users["registrar"], app=app, step="form", done_on=D(2025, 9, 23))


# ---------------------------------------------------------------- no 休学 without an application

@pytest.mark.parametrize("change_type", [ChangeType.SUSPEND, ChangeType.DEFER])
def test_the_register_refuses_a_suspension_without_an_application(users, zhangsan, change_type):
    with pytest.raises(ValidationError) as e:
        registry_change_record(actor=users["registrar"], student=zhangsan, change_type=change_type,
                               date=D(2025, 10, 13), reason="病")
    assert e.value.message_dict["change_type"] == [WHERE_TO_APPLY[change_type]]
    with pytest.raises(CommandError, match="休学申请"):
        call_command("registry_change", zhangsan.registry_no, change_type, "--date", "2025-10-13", "--reason", "病")
    zhangsan.refresh_from_db()
    assert zhangsan.status == S.IN_SCHOOL and not RegistryChange.objects.exists()


def test_the_register_refuses_an_application_not_yet_approved(users, zhangsan, spring):
    app = complete(users["t71"], zhangsan)
    with pytest.raises(ValidationError):
        registry_change_record(actor=users["registrar"], student=zhangsan, change_type=ChangeType.SUSPEND,
                               date=D(2025, 10, 13), reason="病", application=app)
    assert not RegistryChange.objects.exists()


# ---------------------------------------------------------------- reminder and the end

def test_the_reminder_starts_thirty_days_before_the_end(users, zhangsan, spring):
    app = effective(users, zhangsan)
    start = app.ends_on - dt.timedelta(days=30)
    rows = reminders(Application.objects.all(), start)
    assert [(r["app"].pk, r["kind"], r["on"]) for r in rows] == [(app.pk, "ending", D(2026, 9, 29))]
    assert reminders(Application.objects.all(), start - ONE_DAY) == []


def test_the_end_without_resumption_puts_the_student_back_on_the_next_school_day(users, zhangsan, school, spring):
    app = effective(users, zhangsan)
    assert app.ends_on == D(2026, 9, 29)
    Term.objects.create(school=school, name="2026-2027-1", start=D(2026, 9, 1), end=D(2027, 1, 22))
    closure_add(actor=users["office"], date=D(2026, 9, 30), reason="运动会", school=school)
    today = app.ends_on + ONE_DAY
    totals = suspensions_daily(today=today)
    assert totals["warnings"] == [] and totals["expired"] == 1
    zhangsan.refresh_from_db()
    app.refresh_from_db()
    # 09-30 closed, 10-01..07 National Day: back on Thursday 10-08.
    assert zhangsan.status == S.IN_SCHOOL and zhangsan.status_since == D(2026, 10, 8)
    assert app.state == St.EXPIRED and app.ended_on == D(2026, 9, 29)
    change = RegistryChange.objects.get(student=zhangsan, change_type=ChangeType.EXPIRE)
    assert app.end_change == change and change.date == D(2026, 10, 8)
    assert "休学期满未复学" in suspensions.roll_notes([zhangsan.pk])[zhangsan.pk]
    assert [r["kind"] for r in reminders(Application.objects.all(), today)] == ["expired"]

    counts = (RegistryChange.objects.count(), AuditEntry.objects.count())
    again = suspensions_daily(today=today)
    assert again == {"effective": 0, "expired": 0, "warnings": []}
    assert (RegistryChange.objects.count(), AuditEntry.objects.count()) == counts
    zhangsan.refresh_from_db()
    assert zhangsan.status_since == D(2026, 10, 8)


def test_without_a_term_the_end_counts_the_next_working_day(users, zhangsan, school, spring):
    app = effective(users, zhangsan)
    closure_add(actor=users["office"], date=D(2026, 9, 30), reason="运动会", school=school)
    suspensions_daily(today=D(2026, 9, 30))
    zhangsan.refresh_from_db()
    assert zhangsan.status == S.IN_SCHOOL and zhangsan.status_since == D(2026, 9, 30)


def test_nothing_ends_on_the_last_day(users, zhangsan, spring):
    app = effective(users, zhangsan)
    assert suspensions_daily(today=app.ends_on)["expired"] == 0
    zhangsan.refresh_from_db()
    assert zhangsan.status == S.SUSPENDED


# ---------------------------------------------------------------- 复学

def test_resumption_needs_the_papers_then_puts_the_student_in_the_class(users, zhangsan, people, spring):
    app = effective(users, zhangsan)
    clerk = users["registrar"]
    with pytest.raises(ValidationError) as e:
        resumption_record(actor=clerk, app=app, on=D(2026, 3, 2), school_class=people["c72"])
    assert "未上传：复学申请（监护人）" in e.value.messages and "未上传：医院复课证明" in e.value.messages
    zhangsan.refresh_from_db()
    assert zhangsan.status == S.SUSPENDED
    upload(clerk, app, [Material.RESUME_APPLICATION, Material.FITNESS])
    resumption_record(actor=clerk, app=app, on=D(2026, 3, 2), school_class=people["c72"])
    zhangsan.refresh_from_db()
    app.refresh_from_db()
    assert (zhangsan.status, zhangsan.status_since, zhangsan.school_class) == (S.IN_SCHOOL, D(2026, 3, 2), people["c72"])
    assert app.state == St.RESUMED and app.ended_on == D(2026, 3, 2)
    change = app.end_change
    assert change.change_type == ChangeType.RESUME
    with pytest.raises(ValidationError) as e:
        registry_change_mark_done(actor=clerk, change=change, system="provincial", done_on=D(2026, 3, 3))
    assert e.value.messages == [RESUME_NATIONAL_FIRST]
    registry_change_mark_done(actor=clerk, change=change, system="national", done_on=D(2026, 3, 3), screenshot=png())
    registry_change_mark_done(actor=clerk, change=change, system="provincial", done_on=D(2026, 3, 4))
    change.refresh_from_db()
    assert change.provincial_done_on == D(2026, 3, 4)


def test_a_resumption_is_not_recorded_in_the_register_by_hand(users, zhangsan, spring):
    effective(users, zhangsan)
    with pytest.raises(ValidationError, match="休学记录页办理复学"):
        registry_change_record(actor=users["registrar"], student=zhangsan, change_type=ChangeType.RESUME,
                               date=D(2026, 3, 2), reason="康复")


def test_a_resumption_after_the_end_reuses_the_expiry(users, zhangsan, people, spring):
    app = effective(users, zhangsan)
    suspensions_daily(today=D(2026, 9, 30))
    app.refresh_from_db()
    expire = app.end_change
    count = RegistryChange.objects.count()
    upload(users["registrar"], app, [Material.RESUME_APPLICATION, Material.FITNESS])
    resumption_record(actor=users["registrar"], app=app, on=D(2026, 10, 8), school_class=people["c72"])
    app.refresh_from_db()
    zhangsan.refresh_from_db()
    assert RegistryChange.objects.count() == count and app.end_change == expire
    assert app.state == St.RESUMED and zhangsan.school_class == people["c72"] and zhangsan.status == S.IN_SCHOOL
    assert suspensions.roll_notes([zhangsan.pk]) == {}
    with pytest.raises(ValidationError) as e:
        registry_change_mark_done(actor=users["registrar"], change=expire, system="provincial", done_on=D(2026, 10, 9))
    assert e.value.messages == [RESUME_NATIONAL_FIRST]


# ---------------------------------------------------------------- 续休

def extension(users, base, ends_on, today):
    ext = application_start(actor=users["t71"], student=base.student, kind="extend", extends=base)
    application_update(actor=users["t71"], app=ext, ends_on=ends_on, hospital="濮阳市人民医院",
                       hospital_level=HospitalLevel.CITY, diagnosed_on=today)
    upload(users["t71"], ext, MATERIALS[Application.Kind.EXTEND])
    ext.refresh_from_db()
    return ext


def test_an_extension_must_come_fifteen_working_days_before_the_end(users, zhangsan, spring):
    base = effective(users, zhangsan)
    days = workdays.working_days(D(2026, 8, 1), base.ends_on)
    last_ok, first_late = days[-16], days[-15]
    assert workdays.working_days_left(last_ok, base.ends_on) == 15
    ext = extension(users, base, D(2027, 6, 30), D(2026, 8, 20))
    assert not [g for g in missing(ext, today=last_ok) if "工作日" in g]
    with pytest.raises(ValidationError) as e:
        application_submit(actor=users["registrar"], app=ext, today=first_late)
    assert any("15 个工作日" in g and "仅剩 14 个工作日" in g for g in e.value.messages)


def test_an_extension_beyond_two_years_is_refused(users, zhangsan, spring):
    base = effective(users, zhangsan)
    ext = extension(users, base, D(2027, 9, 30), D(2026, 8, 20))
    with pytest.raises(ValidationError) as e:
        application_submit(actor=users["registrar"], app=ext, today=D(2026, 9, 1))
    assert any("最长 24 个月" in g and "2027-09-29" in g for g in e.value.messages)


def test_an_extension_moves_the_end_once_approved_and_done_in_national(users, zhangsan, spring):
    base = effective(users, zhangsan)
    ext = extension(users, base, D(2027, 9, 29), D(2026, 8, 20))
    assert ext.start_on == D(2026, 9, 30) and ext.illness == base.illness
    approve(users, ext, submit_on=D(2026, 9, 1), decided_on=D(2026, 9, 21))
    national(users, ext, done_on=D(2026, 9, 22))
    ext.refresh_from_db()
    base.refresh_from_db()
    assert ext.state == St.EFFECTIVE and base.ends_on == D(2027, 9, 29) and base.state == St.EFFECTIVE
    zhangsan.refresh_from_db()
    assert zhangsan.status == S.SUSPENDED
    # The old end passes without bringing the student back.
    assert suspensions_daily(today=D(2026, 10, 8))["expired"] == 0


def test_an_extension_needs_a_suspension_in_effect(users, zhangsan, spring):
    app = complete(users["t71"], zhangsan)
    with pytest.raises(ValidationError, match="续休只适用于休学中的学生"):
        application_start(actor=users["t71"], student=zhangsan, kind="extend", extends=app)


# ---------------------------------------------------------------- uploads

def test_a_program_renamed_pdf_is_refused(users, zhangsan):
    app = application_start(actor=users["t71"], student=zhangsan, illness="白血病")
    exe = SimpleUploadedFile("诊断证明.pdf", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 100, content_type="application/pdf")
    with pytest.raises(ValidationError) as e:
        application_file_add(actor=users["t71"], app=app, material=Material.DIAGNOSIS, upload=exe)
    assert "不是 PDF、JPG 或 PNG 文件" in e.value.message_dict["upload"][0]
    assert not ApplicationFile.objects.exists()


def test_a_file_over_the_limit_is_refused(users, zhangsan, settings):
    settings.APPLICATION_FILE_MAX_MB = 1
    app = application_start(actor=users["t71"], student=zhangsan, illness="白血病")
    big = pdf("诊断证明.pdf", b"%PDF-1.4" + b"0" * (1024 * 1024))
    with pytest.raises(ValidationError) as e:
        application_file_add(actor=users["t71"], app=app, material=Material.DIAGNOSIS, upload=big)
    assert "超过 1 MB" in e.value.message_dict["upload"][0]
    application_file_add(actor=users["t71"], app=app, material=Material.DIAGNOSIS,
                         upload=pdf("诊断证明.pdf", b"%PDF-1.4" + b"0" * (1024 * 1024 - 8)))
    assert ApplicationFile.objects.count() == 1


def test_a_reupload_keeps_the_old_file_marked_replaced(users, zhangsan):
    app = application_start(actor=users["t71"], student=zhangsan, illness="白血病")
    first = application_file_add(actor=users["t71"], app=app, material=Material.DIAGNOSIS, upload=pdf("旧.pdf"))
    second = application_file_add(actor=users["t71"], app=app, material=Material.DIAGNOSIS,
                                  upload=SimpleUploadedFile("新.jpg", b"\xff\xd8\xff\xe0 jpeg"))
    first.refresh_from_db()
    assert first.replaced_at is not None and second.replaced_at is None
    assert second.file_type == "jpg" and first.file_type == "pdf"
    assert suspensions.current_files(app)[Material.DIAGNOSIS] == second
    assert ApplicationFile.objects.filter(application=app).count() == 2
    assert "张三" not in second.file.name and second.original_name == "新.jpg"


def test_papers_cannot_change_once_submitted(users, zhangsan, spring):
    app = complete(users["t71"], zhangsan)
    application_submit(actor=users["registrar"], app=app, today=D(2025, 9, 10))
    with pytest.raises(ValidationError, match="不能再上传"):
        application_file_add(actor=users["t71"], app=app, material=Material.DIAGNOSIS, upload=pdf())
    with pytest.raises(ValidationError):
        application_bills_set(actor=users["t71"], app=app, items=[("药费", "1")])


# ---------------------------------------------------------------- 县残联

def test_the_disability_path_defers_with_a_review_date(users, zhangsan):
    clerk = users["registrar"]
    app = application_start(actor=clerk, student=zhangsan, kind="disability")
    with pytest.raises(ValidationError) as e:
        disability_assess(actor=clerk, app=app, referred_on=D(2025, 8, 20), assessed_on=D(2025, 8, 28),
                          assessment="中度智力残疾，暂缓入学")
    assert "upload" in e.value.message_dict
    upload(clerk, app, [Material.ASSESSMENT])
    disability_assess(actor=clerk, app=app, referred_on=D(2025, 8, 20), assessed_on=D(2025, 8, 28),
                      assessment="中度智力残疾，暂缓入学")
    disability_decide(actor=clerk, app=app, outcome="defer", start_on=D(2025, 9, 1), ends_on=D(2026, 8, 31),
                      review_on=D(2026, 3, 1))
    app.refresh_from_db()
    zhangsan.refresh_from_db()
    assert zhangsan.status == S.DEFERRED and zhangsan.status_since == D(2025, 9, 1)
    change = RegistryChange.objects.get(student=zhangsan, change_type=ChangeType.DEFER)
    assert app.state == St.EFFECTIVE and app.change == change and app.outcome == "defer"
    assert "中度智力残疾" in change.reason
    due = D(2026, 3, 1) - dt.timedelta(days=30)
    rows = reminders(Application.objects.all(), due)
    assert [(r["app"].pk, r["kind"], r["on"]) for r in rows] == [(app.pk, "review", D(2026, 3, 1))]
    assert reminders(Application.objects.all(), due - ONE_DAY) == []
    # A 延缓入学 is not brought back by the daily job at its end.
    assert suspensions_daily(today=D(2026, 9, 1))["expired"] == 0


def test_a_disability_decision_needs_the_assessment_first(users, zhangsan):
    app = application_start(actor=users["registrar"], student=zhangsan, kind="disability")
    with pytest.raises(ValidationError) as e:
        disability_decide(actor=users["registrar"], app=app, outcome="defer", start_on=D(2025, 9, 1),
                          ends_on=D(2026, 8, 31), review_on=D(2026, 3, 1))
    assert "outcome" in e.value.message_dict
    with pytest.raises(ValidationError, match="不随每月批次报批"):
        application_submit(actor=users["registrar"], app=app, today=D(2025, 9, 10))


# ---------------------------------------------------------------- one application at a time

def test_one_live_application_per_student(users, zhangsan):
    application_start(actor=users["t71"], student=zhangsan, illness="白血病")
    with pytest.raises(ValidationError, match="已有一份"):
        application_start(actor=users["registrar"], student=zhangsan, illness="白血病")
    assert Application.objects.count() == 1


# ---------------------------------------------------------------- audit

def test_every_step_writes_its_audit_row(users, zhangsan, spring, people):
    t71, clerk, county = users["t71"], users["registrar"], users["county"]

    def step(fn, *, actor, note="", **kw):
        before = set(app_rows(app).values_list("pk", flat=True))
        result = fn(actor=actor, app=app, **kw)
        new = list(app_rows(app).exclude(pk__in=before))
        assert new, fn.__name__
        assert all(r.student_id == zhangsan.pk and r.school_id == zhangsan.school_id for r in new)
        assert new[0].actor == actor
        if note:
            assert any(note in r.note for r in new), (fn.__name__, [r.note for r in new])
        return result

    app = application_start(actor=t71, student=zhangsan, illness="白血病")
    [row] = app_rows(app)
    assert row.action == "create" and row.actor == t71 and row.changes["illness"] == [None, "白血病"]
    step(application_update, actor=t71, hospital="濮阳市人民医院", hospital_level=HospitalLevel.CITY,
         diagnosed_on=D(2025, 3, 1), rest_from=D(2025, 3, 3), rest_to=D(2025, 5, 30), start_on=D(2025, 9, 30))
    step(application_bills_set, actor=t71, note="合计 1280.00 元", items=[("住院费", "1280")])
    for m in MATERIALS[Application.Kind.SUSPEND]:
        f = application_file_add(actor=t71, app=app, material=m, upload=pdf())
        row = AuditEntry.objects.get(object_type="applicationfile", object_id=str(f.pk))
        assert row.actor == t71 and row.student_id == zhangsan.pk and str(app) in row.object_repr
    step(application_submit, actor=clerk, note="批次", today=D(2025, 9, 10))
    step(application_decide, actor=county, note="教体局审批：批准", approve=True, decided_on=D(2025, 9, 22))
    step(application_national_step, actor=clerk, note="国网", step="form", done_on=D(2025, 9, 23))
    step(application_national_step, actor=clerk, note="国网", step="proof", done_on=D(2025, 9, 23))
    step(application_national_step, actor=clerk, note="生效", step="reason", done_on=D(2025, 9, 30))
    app.refresh_from_db()
    assert app.state == St.EFFECTIVE
    upload(clerk, app, [Material.RESUME_APPLICATION, Material.FITNESS])
    step(resumption_record, actor=clerk, note="复学", on=D(2026, 3, 2), school_class=people["c71"])
    assert AuditEntry.objects.filter(object_type="registrychange", student_id=zhangsan.pk).exists()


def test_the_daily_job_writes_its_audit_row(users, zhangsan, spring):
    app = effective(users, zhangsan)
    suspensions_daily(today=D(2026, 9, 30))
    row = app_rows(app).order_by("-id").first()
    assert row.actor is None and "休学期满" in row.actor_label and "休学期满未复学" in row.note


def test_the_disability_steps_write_audit_rows(users, zhangsan):
    clerk = users["registrar"]
    app = application_start(actor=clerk, student=zhangsan, kind="disability")
    upload(clerk, app, [Material.ASSESSMENT])
    disability_assess(actor=clerk, app=app, referred_on=D(2025, 8, 20), assessed_on=D(2025, 8, 28),
                      assessment="中度智力残疾")
    assert app_rows(app).filter(note="县残联评估").exists()
    disability_decide(actor=clerk, app=app, outcome="defer", start_on=D(2025, 9, 1), ends_on=D(2026, 8, 31),
                      review_on=D(2026, 3, 1))
    assert app_rows(app).filter(note="县残联决定").exists()
    assert app_rows(app).filter(note__contains="延缓入学生效").exists()
