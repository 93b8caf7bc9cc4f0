"""What the calendar app announces to the apps above it (it imports none of them).

- `calendar_changed(sender, schools, since)`: school days changed from `since` on (a closure, a
  year's calendar entered); `schools` is None for every school. Sent inside the writing
  transaction; the 13510 job (`baoxue.cases.replay`) replays the cases it touches.
- `calendar_warnings(sender, today)`: asked when the calendar page lists what is missing; each
  receiver returns a list of sentences (the 13510 job: cases waiting for a deadline).
"""

import datetime

from django.dispatch import Signal

calendar_changed = Signal()
calendar_warnings = Signal()


def announce(*, since: datetime.date, schools=None) -> None:
    calendar_changed.send(sender=None, schools=schools, since=since)


def more_warnings(today: datetime.date) -> list[str]:
    return [line for _, lines in calendar_warnings.send(sender=None, today=today) for line in (lines or [])]
