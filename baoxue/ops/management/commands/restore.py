"""`baoxue restore FILE [--yes]`: put a backup back (database and uploaded files), then check
every table's row count against the backup's manifest."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from baoxue.ops.backup import BackupError, database_is_empty, read_manifest, restore


class Command(BaseCommand):
    help = "从备份恢复：覆盖当前数据库和上传的材料（需确认）"

    def add_arguments(self, parser):
        parser.add_argument("file", help="baoxue backup 写出的 .tar.gz 文件")
        parser.add_argument("--yes", action="store_true", help="不再询问，直接恢复（脚本用）")

    def handle(self, *args, file, yes, **opts):
        path = Path(file)
        if not path.exists():
            raise CommandError(f"没有找到备份文件：{path}")
        try:
            manifest = read_manifest(path)
        except BackupError as e:
            raise CommandError(str(e))
        counts = manifest["counts"]
        self.stdout.write(f"备份时间 {manifest['made_at']}：学生 {counts.get('org_student', 0)} 名，"
                          f"操作日志 {counts.get('audit_auditentry', 0)} 条")
        if not yes:
            warning = "" if database_is_empty() else "当前数据库中的数据将被备份内容覆盖。"
            answer = input(f"{warning}确认恢复？输入 yes 继续：")
            if answer.strip().lower() != "yes":
                raise CommandError("已取消，没有做任何改动")
        try:
            result = restore(path)
        except (BackupError, OSError) as e:
            raise CommandError(f"恢复失败：{e}")
        if result["mismatches"]:
            lines = "；".join(f"{t} 应为 {a} 条，实为 {b}" for t, (a, b) in result["mismatches"].items())
            raise CommandError(f"恢复后与备份清单不一致：{lines}")
        self.stdout.write(f"已恢复：{len(result['counts'])} 张表的行数与备份清单一致")
