"""`baoxue reconcile FILE --school CODE [--format json] [--dry-run] [--summary X.xlsx]`."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from baoxue.org.models import School
from baoxue.registry.models import Category
from baoxue.registry.reconcile import CATEGORIES, ReconcileError, reconcile, summary_xlsx


class Command(BaseCommand):
    help = "人籍一致：把学籍系统导出的名册与在校学生比对，每个不一致的人成为一条待办"

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--school", required=True, help="学校标识码")
        parser.add_argument("--format", choices=["text", "json"], default="text")
        parser.add_argument("--dry-run", action="store_true", help="只比对，不记录待办")
        parser.add_argument("--summary", help="把分年级汇总（底数清、情况明）写入这个 .xlsx 文件")

    def handle(self, *args, file, school, format, dry_run, summary, **opts):
        try:
            school_obj = School.objects.get(code=school)
        except School.DoesNotExist:
            raise CommandError(f"没有学校标识码为 {school} 的学校")
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"找不到文件：{file}")
        try:
            with path.open("rb") as f:
                result = reconcile(actor=None, actor_label="命令行比对", source=f, filename=path.name,
                                   school=school_obj, dry_run=dry_run)
        except ReconcileError as e:
            raise CommandError(str(e))
        if summary:
            Path(summary).write_bytes(summary_xlsx(result))
        if format == "json":
            self.stdout.write(json.dumps(result.as_json(), ensure_ascii=False, indent=2))
            return
        self.stdout.write(f"{school_obj.name}：名册 {result.rows} 行")
        for c in CATEGORIES:
            self.stdout.write(f"  {Category(c).label}：{result.counts[c]}")
        if result.upload:
            self.stdout.write(f"待办：新发现 {result.new_items}，已解决 {result.resolved_items}，仍未解决 {result.still_open_items}")
        for c in CATEGORIES[1:]:
            for p in result.people[c][:50]:
                where = f"第{p.row}行" if p.row else "在校学生"
                extra = "、".join(p.fields or []) or (p.reason or "")
                self.stdout.write(f"  [{Category(c).label}] {where} {p.name} {p.registry_no} {extra}".rstrip())
