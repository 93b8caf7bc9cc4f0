"""`baoxue audit-archive --before YYYY-MM-DD [--to DIR]`: move audit entries older than the
retention (at least six months) into a gzipped JSON-lines file."""

import datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from baoxue.audit.archive import ArchiveRefused, archive, earliest_cut, keep_months


class Command(BaseCommand):
    help = "操作日志归档：把保留期（至少 6 个月）之前的记录移入归档文件（默认 var/archive）"

    def add_arguments(self, parser):
        parser.add_argument("--before", help=f"归档这一天之前的记录（默认：{keep_months()} 个月前）")
        parser.add_argument("--to", help="归档目录")

    def handle(self, *args, before=None, to=None, **opts):
        try:
            day = datetime.date.fromisoformat(before) if before else earliest_cut()
        except ValueError:
            raise CommandError(f"日期“{before}”格式不对：请写成 2026-06-01")
        try:
            done = archive(before=day, to=Path(to) if to else None)
        except ArchiveRefused as e:
            raise CommandError(str(e))
        if not done["rows"]:
            self.stdout.write(f"{day} 之前没有操作日志，无需归档")
            return
        self.stdout.write(f"已归档 {done['rows']} 条到 {done['file']}（SHA-256 {done['sha256']}）")
