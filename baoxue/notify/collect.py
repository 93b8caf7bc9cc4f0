"""The daily scans: what no single event announces but a day's facts do.

- 劝返不足 and 逾期 of open suspected-dropout cases → the office;
- roll calls not taken by ROLL_CALL_DUE on a school day → the head teacher and the office;
- suspensions ending soon, 残联 reviews due, suspensions ended without 复学 → the registry
  clerk and the head teacher.

Every message has a key naming its facts, so running the scan twice (or every few minutes)
writes nothing new: the scheduler may run `collect(today)` as often as it likes, as long as one
run falls after ROLL_CALL_DUE. Only counties with an active channel are scanned.
"""

import datetime

from django.db import transaction
from django.utils import timezone

from baoxue.notify import events
from baoxue.notify.models import Channel
from baoxue.notify.services import active_channels


def collect(day: datetime.date | None = None, now: datetime.datetime | None = None) -> dict:
    """Run the scans for `day` (default today), each in its own transaction. A year missing from
    the calendar is a warning (no school day can be named), never a guess."""
    now = now or timezone.now()
    day = day or timezone.localdate(now)
    totals = {"short": 0, "overdue": 0, "rollcall": 0, "ending": 0, "warnings": []}
    counties = set(Channel.objects.filter(active=True).values_list("county_id", flat=True))
    if not counties:
        return totals
    channels = active_channels(counties)
    for scan in (lambda: events.persuasion_flags(channels, day=day),
                 lambda: events.roll_calls_missing(channels, day=day, now=now),
                 lambda: events.suspension_reminders(channels, day=day)):
        with transaction.atomic():
            found = scan()
        totals["warnings"].extend(found.pop("warnings", []))
        for k, v in found.items():
            totals[k] += v
    return totals
