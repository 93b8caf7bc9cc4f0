"""Notifications against a local HTTP receiver (http.server in a thread) standing in for a
企业微信 or 钉钉 group robot or a plain webhook.

The receiver answers from a script (a list of (status, body) pairs, then 200 with errcode 0),
keeps every request it got, and counts a message as delivered once per Idempotency-Key: what a
receiver that drops repeats would show its users."""

import datetime as dt
import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from baoxue.attendance.services import roll_call_submit
from baoxue.cases.escalation import escalate

D = dt.date
OK = (200, {"errcode": 0, "errmsg": "ok"})


class Receiver:
    def __init__(self):
        self.script: list[tuple[int, object]] = []
        self.requests: list[dict] = []
        self.accepted: dict[str, dict] = {}
        self.delay = 0.0
        self.hold = threading.Event()
        self.hold.set()
        self.arrived = threading.Event()
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def fail(self, *answers):
        """The next answers, in order, before the receiver says yes again."""
        self.script.extend(answers)

    def bodies(self) -> list[dict]:
        return [r["json"] for r in self.requests]

    def _handler(self):
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                parts = urllib.parse.urlsplit(self.path)
                request = {"path": parts.path, "query": dict(urllib.parse.parse_qsl(parts.query)),
                           "headers": {k.lower(): v for k, v in self.headers.items()},
                           "json": json.loads(raw.decode("utf-8"))}
                with outer.lock:
                    outer.requests.append(request)
                    status, body = outer.script.pop(0) if outer.script else OK
                outer.arrived.set()
                outer.hold.wait(60)
                if outer.delay:
                    time.sleep(outer.delay)
                if 200 <= status < 300 and (not isinstance(body, dict) or body.get("errcode", 0) == 0):
                    key = request["headers"].get("idempotency-key")
                    with outer.lock:
                        outer.accepted.setdefault(key, request)
                data = json.dumps(body).encode() if isinstance(body, dict) else str(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the sender is gone (killed mid-way)

        return Handler

    def close(self):
        self.hold.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def on_day(monkeypatch):
    """on_day(date): "today" is that date for the services and pages."""

    def _set(day):
        monkeypatch.setattr(timezone, "localdate", lambda *a, **k: day)
    return _set


def at(day: dt.date, hh: int = 12, mm: int = 0) -> dt.datetime:
    """A moment of a day, local time."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hh, mm)))


class Diary:
    """Roll calls and the daily job, day by day, as a head teacher and the server do them."""

    def __init__(self, school_class, actor, on_day):
        self.school_class, self.actor, self.on_day = school_class, actor, on_day

    def day(self, date, absent=(), mark="truant", note="", escalate_daily=True):
        self.on_day(date)
        roll_call_submit(actor=self.actor, school_class=self.school_class, date=date,
                         marks={s.pk: (mark, note) for s in absent})
        if escalate_daily:
            escalate(day=date, schools=[self.school_class.school])


@pytest.fixture
def diary(people, term, on_day):
    return Diary(people["c71"], people["users"]["t71"], on_day)


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SITE_URL = "https://baoxue.example.cn"
    settings.NOTIFY_DIGEST_AT = "07:30"
    settings.NOTIFY_GIVE_UP_HOURS = 48
