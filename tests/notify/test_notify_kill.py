"""Nothing is lost when `baoxue notify send` is killed mid-way: a child process posting to a slow
receiver is killed (SIGKILL) while the receiver holds the request. The row stays claimed
("sending"); a `send` within the lease leaves it alone (no second post in flight), one after the
lease posts it again with the same key, and once it is marked sent no run posts it again.

The children share a real database with this test: a file for SQLite (the test database of
pytest-django is in memory), the test database itself on PostgreSQL (committed rows, flushed
and restored after the test)."""

import json
import os
import signal
import subprocess
import sys

import pytest

IS_PG = os.environ.get("DATABASE_URL", "").startswith("postgres")

SETUP = r'''
import json
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from baoxue.notify import services
from baoxue.org.models import County, School, Township

county = County.objects.create(code="410997", name="杀进程县")
township = Township.objects.create(county=county, name="城关镇")
school = School.objects.create(code="4109970001", name="一中", county=county, township=township)
services.channel_add(actor=None, county=county, kind="webhook", url=RECEIVER + "/hook")
for n in (1, 2):
    services.enqueue(county_id=county.pk, school_id=school.pk, audience="office", key=f"task:{n}",
                     title=f"第{n}条", text="内容", link="")
print(json.dumps({"ok": True}))
'''

STATE = r'''
import datetime, json
import django
django.setup()
from django.db.models import F
from baoxue.notify.models import Message
if EXPIRE:
    Message.objects.filter(state="sending").update(claimed_at=F("claimed_at") - datetime.timedelta(minutes=5))
print(json.dumps(dict(Message.objects.values_list("key", "state"))))
'''

CLEANUP = r'''
import django
django.setup()
from baoxue.notify.models import Channel, Message
from baoxue.org.models import County, School, Township
Message.objects.all().delete(); Channel.objects.all().delete()
School.objects.filter(code="4109970001").delete(); Township.objects.filter(county__code="410997").delete()
County.objects.filter(code="410997").delete()
'''


@pytest.fixture
def database_url(request, tmp_path):
    if not IS_PG:
        return f"sqlite:///{tmp_path / 'notify.sqlite3'}"
    # The children write committed rows into the test database: a transactional test, whose
    # flush afterwards is followed by the restore of what the migrations seeded (the calendar).
    request.getfixturevalue("django_db_serialized_rollback")
    request.getfixturevalue("transactional_db")
    from django.db import connection

    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def test_a_send_killed_mid_way_loses_nothing_and_posts_nothing_twice_once_acknowledged(
        database_url, receiver, tmp_path):
    env = {**os.environ, "DATABASE_URL": database_url, "BAOXUE_VAR_DIR": str(tmp_path / "var"),
           "DJANGO_SETTINGS_MODULE": "baoxue.settings", "SECRET_KEY": "x", "DEBUG": "1", "DB_POOL_MAX_SIZE": "0"}

    def script(code, **consts):
        prelude = "".join(f"{k} = {v!r}\n" for k, v in consts.items())
        done = subprocess.run([sys.executable, "-c", prelude + code], env=env, capture_output=True, text=True,
                              timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout.strip().splitlines()[-1]) if done.stdout.strip() else None

    def send():
        done = subprocess.run([sys.executable, "-m", "baoxue", "notify", "send"], env=env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout.strip()

    try:
        script(SETUP, RECEIVER=receiver.url)

        receiver.hold.clear()  # the receiver takes the first post and does not answer
        child = subprocess.Popen([sys.executable, "-m", "baoxue", "notify", "send"], env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            assert receiver.arrived.wait(120), child.stderr.read().decode()[-3000:] if child.poll() is not None else ""
            os.kill(child.pid, signal.SIGKILL)
            child.wait(30)
        finally:
            if child.poll() is None:
                child.kill()
            child.stdout.close()
            child.stderr.close()
        receiver.hold.set()
        assert [r["json"]["id"] for r in receiver.requests] == ["task:1"]
        assert script(STATE, EXPIRE=False) == {"task:1": "sending", "task:2": "waiting"}

        # Within the lease the claimed row is left alone (its post may still be under way); the other goes.
        assert send() == "已发送 1，失败 0，等待 1"
        assert [r["json"]["id"] for r in receiver.requests] == ["task:1", "task:2"]

        # After the lease: posted again, with the same key, and marked sent.
        assert script(STATE, EXPIRE=True) == {"task:1": "sending", "task:2": "sent"}
        assert send() == "已发送 1，失败 0，等待 0"
        assert [r["headers"]["idempotency-key"] for r in receiver.requests] == ["task:1", "task:2", "task:1"]
        assert script(STATE, EXPIRE=False) == {"task:1": "sent", "task:2": "sent"}

        # Acknowledged: never posted again.
        assert send() == "已发送 0，失败 0，等待 0"
        assert script(STATE, EXPIRE=True) == {"task:1": "sent", "task:2": "sent"}
        assert send() == "已发送 0，失败 0，等待 0"
        assert len(receiver.requests) == 3
        assert sorted(receiver.accepted) == ["task:1", "task:2"]  # each message arrived, once by its key
    finally:
        if IS_PG:
            script(CLEANUP)
