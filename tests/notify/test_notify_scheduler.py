"""The scheduler started beside the server (`baoxue scheduler`) does the whole morning by itself:
last month's reports drafted, the 13510 catch-up, and the day-1 task on the head teacher's group
robot, delivered once."""

import datetime as dt
from io import StringIO

from django.core.management import call_command
from django.utils import timezone

from baoxue.attendance.services import roll_call_submit
from baoxue.notify import services
from baoxue.notify.models import Message
from baoxue.reports.models import MonthlyReport
from tests.conftest import make_student

D = dt.date


def test_once_it_drafts_catches_up_and_notifies(people, school, term, receiver, on_day, monkeypatch):
    zhangsan = make_student(school, people["c71"], "张三", 1)
    services.channel_add(actor=None, county=school.county, kind="wecom", url=f"{receiver.url}/robot",
                         school_class=people["c71"])
    on_day(D(2025, 10, 9))  # Thursday: the first working day after the National Day holiday
    roll_call_submit(actor=people["users"]["t71"], school_class=people["c71"], date=D(2025, 10, 9),
                     marks={zhangsan.pk: ("truant", "")})
    on_day(D(2025, 10, 10))
    monkeypatch.setattr(timezone, "now", lambda: timezone.make_aware(dt.datetime(2025, 10, 10, 8, 0)))
    out, err = StringIO(), StringIO()
    call_command("scheduler", "--once", stdout=out, stderr=err)
    # September's report, drafted on 9 October (1-8 October are the holiday)
    assert MonthlyReport.objects.filter(school=school, month=D(2025, 9, 1)).exists()
    assert "已起草上月月报 " in out.getvalue()
    assert "新个案 1" in out.getvalue()
    # the day-1 task went to 七(1)班's robot, in WeCom's markdown, once
    bodies = receiver.bodies()
    assert len(bodies) == 1 and bodies[0]["msgtype"] == "markdown"
    assert "张三" in bodies[0]["markdown"]["content"] and zhangsan.id_number not in bodies[0]["markdown"]["content"]
    assert Message.objects.get().state == "sent"
    assert "通知：已发送 1" in out.getvalue()
    call_command("scheduler", "--once", stdout=StringIO(), stderr=StringIO())
    assert len(receiver.bodies()) == 1
