"""现场核查 pages: /registry/onsite/ (list, open), /registry/onsite/<pk>/ (progress, close) and
/registry/onsite/<pk>/classes/<class_pk>/ (the head teacher's phone page)."""

import datetime

import pytest
from django.urls import reverse

from baoxue.attendance.models import AttendanceRecord
from baoxue.lib.idcard import make_resident_id
from baoxue.registry.models import OnsiteCheck, OnsiteEntry
from baoxue.registry.onsite import onsite_close, onsite_confirm_class, onsite_open

TERM_START = datetime.date(2025, 9, 1)
STAFF = ("office", "leader", "registrar", "county_official", "admin")
NOBODY = ("mentor", "township_official", "outsider")


@pytest.fixture
def check(org):
    return onsite_open(actor=org.office, school=org.school, term=org.term, date=TERM_START)


def class_url(check, school_class):
    return reverse("onsite_class", args=[check.pk, school_class.pk])


def newcomer_id(seq=41):
    return make_resident_id("410999", datetime.date(2012, 5, 6), seq, "M")


# ---------------------------------------------------------------- who sees what

@pytest.mark.parametrize("who", STAFF + ("head_teacher_1",))
def test_the_list_opens_for_staff_and_head_teachers(login, org, who):
    assert login(getattr(org, who)).get(reverse("onsite_list")).status_code == 200


@pytest.mark.parametrize("who", NOBODY)
def test_the_list_is_a_404_for_everyone_else(login, org, who):
    assert login(getattr(org, who)).get(reverse("onsite_list")).status_code == 404


@pytest.mark.parametrize("who", STAFF)
def test_the_progress_page_opens_for_the_school_staff(login, org, check, who):
    assert login(getattr(org, who)).get(reverse("onsite_detail", args=[check.pk])).status_code == 200


@pytest.mark.parametrize("who", NOBODY + ("head_teacher_1",))
def test_the_progress_page_is_a_404_for_others(login, org, check, who):
    assert login(getattr(org, who)).get(reverse("onsite_detail", args=[check.pk])).status_code == 404


def test_a_head_teacher_sees_only_their_own_class(login, org, check):
    client = login(org.head_teacher_2)
    assert client.get(class_url(check, org.class_2)).status_code == 200
    assert client.get(class_url(check, org.class_1)).status_code == 404
    assert client.post(class_url(check, org.class_1), {}).status_code == 404
    assert not OnsiteEntry.objects.exists()


@pytest.mark.parametrize("who", NOBODY)
def test_the_class_page_is_a_404_for_others(login, org, check, who):
    assert login(getattr(org, who)).get(class_url(check, org.class_1)).status_code == 404


def test_the_registrar_reads_a_class_but_cannot_confirm_it(login, org, check):
    client = login(org.registrar)
    html = client.get(class_url(check, org.class_1)).content.decode()
    assert "这里只能查看" in html and "提交核查" not in html
    client.post(class_url(check, org.class_1), {f"m_{org.student_1.pk}": "absent"})
    assert not OnsiteEntry.objects.exists()


# ---------------------------------------------------------------- opening

def test_the_office_opens_a_check(login, org):
    client = login(org.office)
    html = client.get(reverse("onsite_list")).content.decode()
    assert "开始新的现场核查" in html and "2025-2026-1" in html
    r = client.post(reverse("onsite_list"), {"school": org.school.pk, "term": org.term.pk, "date": "2025-09-01"})
    check = OnsiteCheck.objects.get()
    assert r.status_code == 302 and r["Location"] == reverse("onsite_detail", args=[check.pk])
    assert (check.date, check.opened_by) == (TERM_START, org.office)
    html = client.get(reverse("onsite_list")).content.decode()
    assert "开始新的现场核查" not in html and "进行中" in html


def test_a_holiday_is_refused_at_the_field(login, org):
    r = login(org.leader).post(reverse("onsite_list"), {"school": org.school.pk, "term": org.term.pk,
                                                        "date": "2025-10-01"})
    assert r.status_code == 200 and "不是本校在校日" in r.content.decode()
    assert not OnsiteCheck.objects.exists()


def test_a_second_open_check_is_refused(login, org, check):
    client = login(org.office)
    r = client.post(reverse("onsite_list"), {"school": org.school.pk, "term": org.term.pk, "date": "2025-09-02"},
                    follow=True)
    assert "已有进行中的现场核查" in r.content.decode()
    assert OnsiteCheck.objects.count() == 1


def test_the_registrar_and_the_bureau_do_not_open_checks(login, org):
    for who in (org.registrar, org.county_official):
        client = login(who)
        assert "开始新的现场核查" not in client.get(reverse("onsite_list")).content.decode()
        r = client.post(reverse("onsite_list"), {"school": org.school.pk, "term": org.term.pk, "date": "2025-09-01"})
        assert r.status_code == 404
    assert not OnsiteCheck.objects.exists()


# ---------------------------------------------------------------- the head teacher's phone page

def test_every_student_starts_in_school(login, org, check):
    html = login(org.head_teacher_1).get(class_url(check, org.class_1)).content.decode()
    assert "张三" in html and "李四" not in html
    assert 'value="present" class="rc-present" checked' in html
    for label in ("在校", "未到校", "不在本班", "有正当原因", "添加名单外在校学生"):
        assert label in html
    assert html.count('name="a_name_') == 3
    assert "提交核查（全班 1 人）" in html
    assert "2025年9月1日（周一）" in html


def test_posting_an_absence_confirms_the_class_and_starts_13510(login, org, check):
    client = login(org.head_teacher_1)
    zs = org.student_1
    r = client.post(class_url(check, org.class_1), {
        f"m_{zs.pk}": "absent", f"r_{zs.pk}": "家长说去外地了", "added_rows": "3",
        "a_name_1": "周九", "a_id_1": newcomer_id(), "a_note_1": "从外省来",
    })
    assert r.status_code == 302
    entry = OnsiteEntry.objects.get(student=zs)
    assert (entry.result, entry.reason, entry.valid_reason, entry.confirmed_by) == \
        ("absent", "家长说去外地了", False, org.head_teacher_1)
    assert OnsiteEntry.objects.get(result="added").name == "周九"
    assert AttendanceRecord.objects.get(student=zs).mark == "unknown"
    html = client.get(r["Location"]).content.decode()
    assert "已提交七年级(1)班现场核查：全班 1 人，在校 0 人，未到校 1 人（无正当原因 1 人）" in html
    assert "1 人已按“原因不明”记入9月1日考勤，进入13510流程" in html
    assert "已确认：李老师" in html
    assert 'value="absent" class="rc-truant" checked' in html  # prefilled for correction
    assert 'value="周九"' in html


def test_a_bad_id_number_is_shown_at_its_row_and_nothing_is_saved(login, org, check):
    number = newcomer_id()
    wrong = number[:-1] + ("0" if number[-1] != "0" else "1")
    r = login(org.head_teacher_1).post(class_url(check, org.class_1), {
        f"m_{org.student_1.pk}": "present", "added_rows": "3", "a_name_2": "周九", "a_id_2": wrong})
    html = r.content.decode()
    assert r.status_code == 200
    assert "校验位错误" in html and 'class="os-person has-error"' in html
    assert not OnsiteEntry.objects.exists()


def test_not_in_class_without_where_is_refused_at_the_row(login, org, check):
    zs = org.student_1
    r = login(org.head_teacher_1).post(class_url(check, org.class_1), {f"m_{zs.pk}": "not_in_class"})
    assert r.status_code == 200 and "请写明去向" in r.content.decode()
    assert 'class="rc-row has-error"' in r.content.decode()
    assert not OnsiteEntry.objects.exists()


def test_the_office_may_confirm_for_the_head_teacher(login, org, check):
    r = login(org.office).post(class_url(check, org.class_2), {f"m_{org.student_2.pk}": "present"})
    assert r.status_code == 302
    assert OnsiteEntry.objects.get().confirmed_by == org.office


def test_a_closed_check_is_read_only(login, org, check):
    onsite_close(actor=org.office, check=check, on=datetime.date(2025, 9, 5))
    client = login(org.head_teacher_1)
    html = client.get(class_url(check, org.class_1)).content.decode()
    assert "结果只能查看" in html and "提交核查" not in html
    client.post(class_url(check, org.class_1), {f"m_{org.student_1.pk}": "absent"})
    assert not OnsiteEntry.objects.exists()


# ---------------------------------------------------------------- progress and closing

def test_progress_shows_each_class_and_the_lists(login, org, check):
    zs = org.student_1
    onsite_confirm_class(actor=org.head_teacher_1, check=check, school_class=org.class_1,
                         results={zs.pk: ("absent", "外出打工", False)}, added=[("周九", newcomer_id(), "从外省来")])
    html = login(org.office).get(reverse("onsite_detail", args=[check.pk])).content.decode()
    assert "<strong>1 / 2</strong>班级已确认" in html
    assert "✓ 已确认" in html and "未确认" in html  # (1)班 done, (2)班 waiting
    assert "王老师" in html  # the head teacher of the class still to confirm
    assert "外出打工" in html and "已记入9月1日考勤" in html
    assert "周九" in html and "从外省来" in html and newcomer_id() not in html  # the ID is masked
    assert reverse("onsite_class", args=[check.pk, org.class_2.pk]) in html  # the office can open each class
    assert "结束核查" in html


def test_the_registrar_sees_progress_without_the_close_button(login, org, check):
    html = login(org.registrar).get(reverse("onsite_detail", args=[check.pk])).content.decode()
    assert "各班进度" in html and "结束核查" not in html


def test_the_office_closes_the_check(login, org, check):
    r = login(org.office).post(reverse("onsite_close", args=[check.pk]), {"on": "2025-09-05"}, follow=True)
    check.refresh_from_db()
    assert check.closed_on == datetime.date(2025, 9, 5)
    assert "已结束现场核查" in r.content.decode()


def test_a_head_teacher_cannot_close(login, org, check):
    r = login(org.head_teacher_1).post(reverse("onsite_close", args=[check.pk]), {"on": "2025-09-05"})
    assert r.status_code == 404
    check.refresh_from_db()
    assert check.closed_on is None


# ---------------------------------------------------------------- navigation

def nav(client):
    html = client.get(reverse("home")).content.decode()
    return html[html.index('<nav class="sidenav"'):html.index("</nav>")]


def test_head_teachers_get_the_link_and_their_class_while_a_check_is_open(login, org):
    client = login(org.head_teacher_1)
    assert "现场核查" not in nav(client)
    check = onsite_open(actor=org.office, school=org.school, term=org.term, date=TERM_START)
    assert "现场核查" in nav(client)
    html = client.get(reverse("onsite_list")).content.decode()
    assert class_url(check, org.class_1) in html and class_url(check, org.class_2) not in html
    assert "未确认，请逐人确认" in html
    onsite_close(actor=org.office, check=check, on=TERM_START)
    assert "现场核查" not in nav(client)


@pytest.mark.parametrize("who", STAFF)
def test_the_staff_always_have_the_link(login, org, who):
    assert reverse("onsite_list") in nav(login(getattr(org, who)))


@pytest.mark.parametrize("who", NOBODY)
def test_others_never_have_the_link(login, org, check, who):
    assert reverse("onsite_list") not in nav(login(getattr(org, who)))
