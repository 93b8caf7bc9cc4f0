"""`baoxue scheduler`: runs the daily jobs by themselves beside the web server (`make run`).

- Each new day, first thing: `suspensions_daily` (approved suspensions take effect; those past
  their end without 复学 put the student back on the roll call before the morning's roll call).
- On start it catches up every school day since the last evaluated one (up to yesterday); then,
  each day at ESCALATE_AT (default 17:00, after the day's roll calls), it evaluates the day.

- Each night at BACKUP_AT (default 02:30): `baoxue backup` into BACKUP_DIR (default var/backups),
  the 14 newest kept. BACKUP_AT=off turns it off (a server that backs up otherwise).

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
from baoxue.ops.backup import BackupError, backup
from baoxue.registry.suspensions import suspensions_daily


class Command(BaseCommand):
    help = "每日自动运行 13510 预警（默认每天 17:00，可用环境变量 ESCALATE_AT 修改）"

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="补跑到昨天后退出")

    def handle(self, *args, once, **opts):
        at = datetime.time.fromisoformat(os.environ.get("ESCALATE_AT") or "17:00")
        stop = []
        signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
        self._suspensions(timezone.localdate())
        self._run(timezone.localdate() - datetime.timedelta(days=1), "补跑")
        if once:
            return
        backup_at = os.environ.get("BACKUP_AT") or "02:30"
        backup_time = None if backup_at == "off" else datetime.time.fromisoformat(backup_at)
        done, morning, backed_up = None, timezone.localdate(), timezone.localdate()
        while not stop:
            now = timezone.localtime()
            if morning != now.date():
                self._suspensions(now.date())
                morning = now.date()
            if backup_time and now.time() >= backup_time and backed_up != now.date():
                self._backup()
                backed_up = now.date()
            if now.time() >= at and done != now.date():
                self._run(now.date(), "每日预警")
                done = now.date()
            for _ in range(30):  # wake each second: SIGTERM stops it at once
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

    def _backup(self) -> None:
        try:
            path = backup()
        except (BackupError, OSError) as e:
            self.stderr.write(f"[{timezone.localtime():%Y-%m-%d %H:%M}] 夜间备份失败：{e}")
            return
        self.stdout.write(f"[{timezone.localtime():%Y-%m-%d %H:%M}] 夜间备份：{path}")
