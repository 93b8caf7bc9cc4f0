"""`baoxue escalate [--date D] [--through D]`: the daily job of 13510."""

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from baoxue.calendar.workdays import CalendarMissing
from baoxue.cases.escalation import escalate
from baoxue.org.models import School


class Command(BaseCommand):
    help = "13510 每日预警：按考勤推进连续缺勤个案（联系家长、家访、疑似辍学、辍学）"

    def add_arguments(self, parser):
        g = parser.add_mutually_exclusive_group()
        g.add_argument("--date", help="评估这一天（默认今天）")
        g.add_argument("--through", help="从上次评估之后的在校日一直评估到这一天")
        parser.add_argument("--school", help="只评估这所学校（学校标识码）")

    def handle(self, *args, date, through, school, **opts):
        try:
            day = datetime.date.fromisoformat(through or date) if (through or date) else timezone.localdate()
        except ValueError:
            raise CommandError("日期格式不对：请写成 2025-09-30")
        schools = School.objects.filter(code=school) if school else None
        if school and not schools.exists():
            raise CommandError(f"没有学校标识码为 {school} 的学校")
        try:
            totals = escalate(day=day, through=bool(through), schools=schools)
        except CalendarMissing as e:
            raise CommandError(str(e))
        for warning in totals["warnings"]:
            self.stderr.write(warning)
        for county in totals["busy"]:
            self.stdout.write(f"已有评估在运行：{county}，本次跳过（由正在运行的评估完成）")
        self.stdout.write(
            f"{day} 评估完成：处理在校日 {totals['days']} 个，新个案 {totals['opened']}，推进 {totals['advanced']}，"
            f"销账 {totals['closed']}，纳入辍学台账 {totals['dropouts']}"
        )
