import datetime as dt

import pytest

from baoxue.attendance.services import roll_call_submit
from baoxue.cases.escalation import escalate
from baoxue.org.models import Term

D = dt.date


@pytest.fixture
def term(school):
    return Term.objects.create(school=school, name="2025-2026-1", start=D(2025, 9, 1), end=D(2026, 1, 23))


@pytest.fixture
def other_term(other_school):
    return Term.objects.create(school=other_school, name="2025-2026-1", start=D(2025, 9, 1), end=D(2026, 1, 23))


class Diary:
    """Roll calls and the daily job, day by day, as a head teacher and the server would do them."""

    def __init__(self, school_class, actor=None):
        self.school_class = school_class
        self.actor = actor

    def day(self, date, absent=(), mark="truant", escalate_daily=True):
        roll_call_submit(actor=self.actor, school_class=self.school_class, date=date,
                         marks={s.pk: (mark, "") for s in absent})
        if escalate_daily:
            escalate(day=date, schools=[self.school_class.school])


@pytest.fixture
def diary(people, term):
    return Diary(people["c71"], people["users"]["t71"])
