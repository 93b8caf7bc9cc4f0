"""`baoxue scheduler`: runs the daily jobs by themselves beside the web server (`make run`).

- Each new day, first thing: `suspensions_daily` (approved suspensions take effect; those past
  their end without 复学 put the student back on the roll call before the morning's roll call).
- On start it catches up every school day since the last evaluated one (up to yesterday); then,
  each day at ESCALATE_AT (default 17:00, after the day's roll calls), it evaluates the day.

- Each night at BACKUP_AT (default 02:30): `baoxue backup` into BACKUP_DIR (default var/backups),
  the 14 newest kept. BACKUP_AT=off turns it off (a server that backs up otherwise).
- Each morning: the monthly reports (学校一月一报告) of last month are drafted on the first
  working day after it ends (`reports.monthly.draft_due`).
- Every minute: the notification scans (`notify.collect`: 劝返不足/逾期, roll calls not taken
  by ROLL_CALL_DUE, suspensions ending; each message once by its key) and the delivery of the
  outbox (`notify.delivery.send_due`, with its retries and the morning digest).

It lives in the ops app, above the domain apps, because it runs the jobs of them all.
A production server can use cron instead (see README).
"""

import datetime
import os
import signal
import time

from django.core.management.base import BaseCommand
from django.utils import timezone

from baoxue.calendar.workdays import CalendarMissing
from baoxue.cases.escalation import escalate
from baoxue.notify.collect import collect
from baoxue.notify.delivery import send_due
from baoxue.ops.backup import BackupError, backup
from baoxue.registry.suspensions import suspensions_daily
from baoxue.reports.monthly import draft_due


class Command(BaseCommand):
    help = "每日自动运行 13510 预警（默认每天 17:00，可用环境变量 ESCALATE_AT 修改）"

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="补跑到昨天后退出")

    def handle(self, *args, once, **opts):
        at = datetime.time.fromisoformat(os.environ.get("ESCALATE_AT") or "17:00")
        stop = []
        signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
        self._suspensions(timezone.localdate())
        self._reports(timezone.localdate())
        self._run(timezone.localdate() - datetime.timedelta(days=1), "补跑")
        self._notify()
        if once:
            return
        backup_at = os.environ.get("BACKUP_AT") or "02:30"
        backup_time = None if backup_at == "off" else datetime.time.fromisoformat(backup_at)
        done, morning, backed_up = None, timezone.localdate(), timezone.localdate()
        notified = timezone.localtime()
        while not stop:
            now = timezone.localtime()
            if morning != now.date():
                self._suspensions(now.date())
                self._reports(now.date())
                morning = now.date()
            if backup_time and now.time() >= backup_time and backed_up != now.date():
                self._backup()
                backed_up = now.date()
            if now.time() >= at and done != now.date():
                self._run(now.date(), "每日预警")
                done = now.date()
            # The scans each minute; the outbox every 10 seconds (a failed post is retried
            # about 10 seconds later, then less often).
            scan = now - notified >= datetime.timedelta(minutes=1)
            self._notify(scan=scan)
            if scan:
                notified = now
            for _ in range(10):  # wake each second: SIGTERM stops it at once
                if stop:
                    break
                time.sleep(1)

    def _run(self, day: datetime.date, label: str) -> None:
        try:
            totals = escalate(day=day, through=True)
        except CalendarMissing as e:
            self.stderr.write(f"[{timezone.localtime():%Y-%m-%d %H:%M}] {label}失败：{e}")
            return
        for warning in totals["warnings"]:
            self.stderr.write(f"[{timezone.localtime():%Y-%m-%d %H:%M}] {warning}")
        for county in totals["busy"]:
            self.stdout.write(f"[{timezone.localtime():%Y-%m-%d %H:%M}] 已有评估在运行：{county}，本次跳过")
        self.stdout.write(f"[{timezone.localtime():%Y-%m-%d %H:%M}] {label}至 {day}：处理在校日 {totals['days']} 个，"
                          f"新个案 {totals['opened']}，销账 {totals['closed']}，纳入辍学台账 {totals['dropouts']}")

    def _suspensions(self, day: datetime.date) -> None:
        totals = suspensions_daily(day)
        for warning in totals["warnings"]:
            self.stderr.write(f"[{timezone.localtime():%Y-%m-%d %H:%M}] {warning}")
        if totals["effective"] or totals["expired"]:
            self.stdout.write(f"[{timezone.localtime():%Y-%m-%d %H:%M}] 休学：生效 {totals['effective']}，"
                              f"期满未复学回到考勤 {totals['expired']}")

    def _reports(self, day: datetime.date) -> None:
        try:
            drafted = draft_due(day)
        except CalendarMissing as e:
            self.stderr.write(f"[{timezone.localtime():%Y-%m-%d %H:%M}] 月报起草失败：{e}")
            return
        if drafted:
            self.stdout.write(f"[{timezone.localtime():%Y-%m-%d %H:%M}] 已起草上月月报 {drafted} 份")

    def _notify(self, scan: bool = True) -> None:
        # A notification problem (a database hiccup, a bug) is logged; the daily 13510 job and
        # the backups in this loop must go on.
        try:
            found = collect() if scan else {"warnings": []}
            # The scans run each minute: the same warning (a missing calendar year) once a day.
            today = timezone.localdate()
            if getattr(self, "_warned_on", None) != today:
                self._warned_on, self._warned = today, set()
            for warning in found["warnings"]:
                if warning not in self._warned:
                    self._warned.add(warning)
                    self.stderr.write(f"[{timezone.localtime():%Y-%m-%d %H:%M}] 通知：{warning}")
            totals = send_due()
        except Exception as e:  # noqa: BLE001
            self.stderr.write(f"[{timezone.localtime():%Y-%m-%d %H:%M}] 通知出错：{type(e).__name__}: {e}")
            return
        if totals["sent"] or totals["failed"]:
            self.stdout.write(f"[{timezone.localtime():%Y-%m-%d %H:%M}] 通知：已发送 {totals['sent']}，"
                              f"失败 {totals['failed']}，等待 {totals['waiting']}")

    def _backup(self) -> None:
        try:
            path = backup()
        except (BackupError, OSError) as e:
            self.stderr.write(f"[{timezone.localtime():%Y-%m-%d %H:%M}] 夜间备份失败：{e}")
            return
        self.stdout.write(f"[{timezone.localtime():%Y-%m-%d %H:%M}] 夜间备份：{path}")
