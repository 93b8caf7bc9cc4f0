"""`baoxue import-attendance FILE [--dry-run]`: attendance from gate or face-recognition systems."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from baoxue.attendance.imports import import_attendance


class Command(BaseCommand):
    help = "导入门禁/人脸识别考勤（列：日期、全国学籍号或身份证件号、状态、原因）；有问题行时不写入"

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--dry-run", action="store_true", help="只检查，不写入")

    def handle(self, *args, file, dry_run, **opts):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"找不到文件：{file}")
        with path.open("rb") as f:
            report = import_attendance(actor=None, actor_label="命令行导入", source=f, filename=path.name, dry_run=dry_run)
        self.stdout.write(f"文件：{report.filename}  数据行 {report.rows_total}，日期 {len(report.dates)} 天，"
                          f"缺勤/迟到/早退 {report.records}，出勤 {report.present}")
        for p in report.problems[:200]:
            self.stdout.write(f"  {p}")
        if report.problems:
            raise CommandError(f"有 {len(report.problems)} 个问题，没有写入任何数据。")
        self.stdout.write("检查通过（--dry-run，未写入）。" if dry_run else self.style.SUCCESS("已导入。"))
