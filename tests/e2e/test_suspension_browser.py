"""休学 by the plan's procedure in a real browser: the head teacher fills the application on a
phone and sees what is missing; the registry clerk, at a desk, does the 国网 steps after the
bureau's approval, and the student leaves the roll call."""

import datetime as dt
import re

import pytest

from baoxue.org.models import RegistryStatus
from baoxue.registry import suspensions
from baoxue.registry.models import Application
from tests.e2e.test_browser import log_in

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
D = dt.date
PDF = b"%PDF-1.4\n% scanned paper\n"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def working_days(db):
    """The working-day table: a transactional test before this one may have emptied it."""
    from baoxue.calendar.services import calendar_seed

    calendar_seed(actor=None)


def test_a_head_teacher_fills_the_application_on_a_phone(live_server, phone, people, students, term, tmp_path):
    zs = students["zhangsan"]
    log_in(phone, live_server, "t71")
    phone.goto(f"{live_server.url}/students/{zs.pk}/")
    with phone.expect_navigation():
        phone.get_by_role("link", name="申请休学").click()
    phone.fill("input[name=illness]", "肺结核")
    with phone.expect_navigation(url=re.compile(r"/registry/suspensions/\d+/$")):
        phone.get_by_role("button", name="新建").click()
    assert "未上传：县级以上医院诊断证明" in phone.content()
    assert phone.get_by_role("button", name="提交报批").is_disabled()

    scan = tmp_path / "诊断证明.pdf"
    scan.write_bytes(PDF)
    card = phone.locator("li.card", has_text="县级以上医院诊断证明")
    card.locator("input[type=file]").set_input_files(str(scan))
    with phone.expect_navigation():
        card.get_by_role("button", name="上传").click()
    assert "已上传：县级以上医院诊断证明" in phone.content()
    assert "未上传：县级以上医院诊断证明" not in phone.content()

    phone.locator("input[name=item]").nth(0).fill("住院费")
    phone.locator("input[name=amount]").nth(0).fill("999.99")
    with phone.expect_navigation():
        phone.get_by_role("button", name="保存药费明细").click()
    assert "药费合计 999.99 元，不足 1,000 元" in phone.content()
    # The page fits the phone: nothing wider than the screen.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390 + 1


def test_the_clerk_does_the_national_steps_and_the_student_leaves_the_roll_call(
        live_server, desktop, people, students, term):
    zs = students["zhangsan"]
    users = people["users"]
    app = suspensions.application_start(actor=users["t71"], student=zs, illness="肺结核")
    Application.objects.filter(pk=app.pk).update(state="approved", submitted_on=D(2025, 10, 9),
                                                 batch_day=D(2025, 10, 20), decided_on=D(2025, 10, 20), decided_by=users["county"],
                                                 start_on=D(2025, 10, 13), ends_on=D(2026, 10, 12))
    log_in(desktop, live_server, "registrar")
    desktop.goto(f"{live_server.url}/registry/suspensions/{app.pk}/")
    for label in ("上传教体局加章审批表", "上传医生诊断证明及药费票据", "休学原因栏注明因何病休学"):
        item = desktop.locator("ol.checklist li", has_text=label)
        item.locator("input[type=date]").fill("2025-10-22")
        with desktop.expect_navigation():
            item.get_by_role("button", name="已办理").click()
        assert "已登记国网办理" in desktop.content()
    assert "自 2025-10-13 起休学，已移出班级考勤" in desktop.content()
    zs.refresh_from_db()
    assert zs.status == RegistryStatus.SUSPENDED
    desktop.goto(f"{live_server.url}/attendance/classes/{people['c71'].pk}/2025-10-23/")
    assert "张三" not in desktop.locator("form").first.inner_text()
