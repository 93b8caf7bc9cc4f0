"""`baoxue backup [--to DIR] [--keep 14]`: one backup file (database, uploaded files, manifest)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from baoxue.ops.backup import KEEP, BackupError, backup, read_manifest


class Command(BaseCommand):
    help = "备份：数据库和上传的材料写成一个文件（默认 var/backups，保留最近 14 份）"

    def add_arguments(self, parser):
        parser.add_argument("--to", help="备份目录（默认 BACKUP_DIR 或 var/backups）")
        parser.add_argument("--keep", type=int, default=KEEP, help="保留最近几份（默认 14）")

    def handle(self, *args, to=None, keep=KEEP, **opts):
        if keep < 1:
            raise CommandError("--keep 至少为 1")
        try:
            path = backup(Path(to) if to else None, keep=keep)
        except (BackupError, OSError) as e:
            raise CommandError(f"备份失败：{e}")
        counts = read_manifest(path)["counts"]
        self.stdout.write(f"已备份：{path}（{path.stat().st_size / 1024 / 1024:.1f} MB；学生 {counts.get('org_student', 0)} 名，"
                          f"操作日志 {counts.get('audit_auditentry', 0)} 条）")
