"""Connects the notify outbox to the signals of the 13510 app (baoxue.cases.signals).

The signals are sent inside the transaction that writes the event, so the outbox rows commit
with it or not at all. The rows are written in a savepoint: should writing a notification fail,
the event (a task, a ledger entry, a report) still stands and the error is logged; 13510 never
stops for a notification.
"""

import logging

from django.db import transaction
from django.utils import timezone

from baoxue.cases import signals
from baoxue.notify import events

logger = logging.getLogger(__name__)


def _safely(write, items) -> None:
    if not items:
        return
    try:
        with transaction.atomic():
            write(list(items), today=timezone.localdate())
    except Exception:
        logger.exception("写入通知失败（事件本身已保存）")


def on_tasks_opened(sender, *, tasks, **kwargs) -> None:
    _safely(events.tasks_opened, tasks)


def on_case_suspected(sender, *, cases, **kwargs) -> None:
    _safely(events.cases_suspected, cases)


def on_dropout_reported(sender, *, reports, **kwargs) -> None:
    _safely(events.reports_made, reports)


def connect() -> None:
    """Called once from NotifyConfig.ready."""
    signals.tasks_opened.connect(on_tasks_opened, dispatch_uid="notify.tasks_opened")
    signals.case_suspected.connect(on_case_suspected, dispatch_uid="notify.case_suspected")
    signals.dropout_reported.connect(on_dropout_reported, dispatch_uid="notify.dropout_reported")
