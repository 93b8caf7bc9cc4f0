"""A head teacher on a phone and a registry clerk on a desktop, in a real browser."""

import pytest

from baoxue.audit.models import AuditEntry
from baoxue.lib.idcard import mask_id
from tests.conftest import make_user

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def log_in(page, live_server, username):
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pw-123456")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def test_a_head_teacher_on_a_phone_sees_only_their_class(live_server, phone, people, students):
    zs, ls = students["zhangsan"], students["lisi"]
    log_in(phone, live_server, "t71")
    phone.goto(f"{live_server.url}/students/")
    body = phone.content()
    assert "张三" in body and "李四" not in body
    assert zs.id_number not in body and mask_id(zs.id_number) in body
    response = phone.goto(f"{live_server.url}/students/{ls.pk}/")
    assert response.status == 404
    phone.goto(f"{live_server.url}/students/?q=李四")
    assert f"/students/{ls.pk}/" not in phone.content()
    # nothing wider than the screen: the page fits a phone
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390 + 1


def test_a_registry_clerk_reveals_an_id_and_it_is_logged(live_server, desktop, people, students):
    zs = students["zhangsan"]
    log_in(desktop, live_server, "registrar")
    desktop.goto(f"{live_server.url}/students/{zs.pk}/")
    assert zs.id_number not in desktop.content()
    desktop.get_by_role("button", name="显示完整证件号").click()
    desktop.wait_for_load_state()
    assert zs.id_number in desktop.content()
    assert AuditEntry.objects.filter(action="reveal", student_id=zs.pk, actor=people["users"]["registrar"]).exists()
