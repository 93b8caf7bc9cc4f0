"""`baoxue suspensions [--date YYYY-MM-DD]`: the daily suspension job (cron, before the morning's
roll call): approved suspensions whose start has come take effect, and suspensions past their
end without 复学 put the student back on the class's roll call (休学期满未复学)."""

import datetime

from django.core.management.base import BaseCommand, CommandError

from baoxue.registry.suspensions import suspensions_daily


class Command(BaseCommand):
    help = "休学每日检查：已批准的休学到开始日生效；期满未复学的学生回到班级考勤"

    def add_arguments(self, parser):
        parser.add_argument("--date", help="按这一天检查（默认今天）")

    def handle(self, *args, date=None, **opts):
        try:
            day = datetime.date.fromisoformat(date) if date else None
        except ValueError:
            raise CommandError(f"日期“{date}”格式不对：请写成 2026-10-13")
        totals = suspensions_daily(day)
        for warning in totals["warnings"]:
            self.stderr.write(warning)
        self.stdout.write(f"休学生效 {totals['effective']} 人，期满未复学回到班级考勤 {totals['expired']} 人")
