"""`baoxue cases --format json [--school CODE] [--all]`: the 13510 cases (one per run)."""

import json

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from baoxue.cases.selectors import FLAG_LABELS, case_json, with_attempt_counts, with_clocks
from baoxue.cases.models import Case
from baoxue.org.models import School


class Command(BaseCommand):
    help = "列出 13510 个案（默认只列未销账的；--all 含已销账）"

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=["json", "text"], default="text")
        parser.add_argument("--school", help="学校标识码")
        parser.add_argument("--all", action="store_true", help="包括已销账的个案")

    def handle(self, *args, format, school, all, **opts):
        qs = Case.objects.select_related("student", "school", "rules").order_by("first_absent_on", "id")
        if school:
            if not School.objects.filter(code=school).exists():
                raise CommandError(f"没有学校标识码为 {school} 的学校")
            qs = qs.filter(school__code=school)
        if not all:
            qs = qs.filter(is_open=True)
        # Attempts counted in the query, the calendar read once: no query per case.
        today = timezone.localdate()
        cases = with_clocks(with_attempt_counts(qs), today)
        rows = [case_json(c, today) for c in cases]
        if format == "json":
            self.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2))
            return
        for r, c in zip(rows, cases):
            line = (f"{c.school.name}\t{c.student.name}\t{r['registry_no']}\t{c.get_stage_display()}\t"
                    f"{r['state']}\t连续{r['unexcused_days']}天\t首次{r['first_absent_on']}\t劝返{r['attempts']}次")
            if r["flags"]:
                line += "\t" + "、".join(FLAG_LABELS[f] for f in r["flags"])
            self.stdout.write(line)
