"""/notify/ for the county bureau and administrators (a 404 for anyone else): channels with the
address masked to its host, deliveries not yet made with their last error, 重试 and 停用 as
audited POSTs; the Django admin lists channels and deliveries read-mostly."""

import pytest
from django.urls import reverse

from baoxue.audit.models import AuditEntry
from baoxue.notify import services
from baoxue.notify.models import Channel, Message
from baoxue.org.models import County, Membership, Role
from tests.conftest import make_user

KEY_URL = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=secret-robot-key"


@pytest.fixture
def setup(county, school, people):
    ch = services.channel_add(actor=None, county=county, kind="wecom", url=KEY_URL, school=school, label="政教处群")
    services.enqueue(county_id=county.pk, school_id=school.pk, audience="office", key="x:1", title="疑似辍学：张三（七年级(1)班）",
                     text="", link="")
    Message.objects.update(state="failed", attempts=9, last_error="HTTP 503：busy")
    return ch, Message.objects.get()


@pytest.mark.parametrize("who", ["office", "leader", "registrar", "t71", "township", "outsider"])
def test_only_the_bureau_and_admins_open_it(client, people, setup, who):
    client.force_login(people["users"][who])
    assert client.get(reverse("notify_index")).status_code == 404
    m = setup[1]
    assert client.post(reverse("notify_retry", args=[m.pk])).status_code == 404
    assert client.post(reverse("notify_channel_toggle", args=[setup[0].pk])).status_code == 404


@pytest.mark.parametrize("who", ["county", "admin"])
def test_the_page_masks_the_address_and_lists_what_failed(client, people, setup, who):
    client.force_login(people["users"][who])
    r = client.get(reverse("notify_index"))
    assert r.status_code == 200
    page = r.content.decode()
    assert "secret-robot-key" not in page and "https://qyapi.weixin.qq.com/…" in page
    assert "政教处群" in page and "疑似辍学：张三（七年级(1)班）" in page and "HTTP 503：busy" in page and "已放弃" in page


def test_retry_and_switch_off_are_audited(client, people, setup):
    ch, m = setup
    client.force_login(people["users"]["county"])
    r = client.post(reverse("notify_retry", args=[m.pk]))
    assert r.status_code == 302
    m.refresh_from_db()
    assert m.state == "waiting"
    assert AuditEntry.objects.filter(object_type="message", object_id=str(m.pk), note="手动重试发送通知").exists()
    client.post(reverse("notify_channel_toggle", args=[ch.pk]))
    ch.refresh_from_db()
    assert not ch.active
    assert AuditEntry.objects.filter(object_type="channel", note="停用通知渠道").exists()
    assert client.get(reverse("notify_retry", args=[m.pk])).status_code == 405


def test_a_bureau_sees_its_own_county_only(client, setup):
    other = County.objects.create(code="410998", name="邻县")
    official = make_user("other_county")
    Membership.objects.create(user=official, role=Role.COUNTY, county=other)
    client.force_login(official)
    page = client.get(reverse("notify_index")).content.decode()
    assert "政教处群" not in page and "张三" not in page
    assert client.post(reverse("notify_retry", args=[setup[1].pk])).status_code == 404


def test_the_admin_lists_channels_and_messages_without_the_key(client, people, setup):
    ch, m = setup
    client.force_login(people["users"]["admin"])
    for name in ("admin:notify_channel_changelist", "admin:notify_message_changelist"):
        assert client.get(reverse(name)).status_code == 200
    page = client.get(reverse("admin:notify_channel_change", args=[ch.pk])).content.decode()
    assert "secret-robot-key" not in page
    assert client.get(reverse("admin:notify_channel_add")).status_code == 403
    r = client.post(reverse("admin:notify_channel_change", args=[ch.pk]),
                    {"label": "改名", "audience": "office", "active": "on"})
    assert r.status_code == 302
    ch.refresh_from_db()
    assert (ch.label, ch.audience, ch.url) == ("改名", "office", KEY_URL)
    assert client.post(reverse("admin:notify_message_change", args=[m.pk]), {}).status_code == 403
    assert Channel.objects.count() == 1
