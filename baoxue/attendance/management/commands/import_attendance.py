"""`baoxue import-attendance FILE [--covers listed-classes|whole-school] [--dry-run]`: attendance
from gate or face-recognition systems."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from baoxue.attendance.imports import COVERS, LISTED_CLASSES, import_attendance


class Command(BaseCommand):
    help = ("导入门禁/人脸识别考勤（列：日期、全国学籍号或身份证件号、状态、原因）；"
            "不是在校日的行跳过；有问题行时不写入")

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--covers", choices=list(COVERS), default=LISTED_CLASSES,
                            help="文件记录的范围：listed-classes＝只有文件中出现的班级（默认；这些班级当天没有记录的学生算到校），"
                                 "whole-school＝全校所有班级（门禁、人脸识别导出的异常名单：全校当天没有记录的学生都算到校）")
        parser.add_argument("--dry-run", action="store_true", help="只检查，不写入")

    def handle(self, *args, file, covers, dry_run, **opts):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"找不到文件：{file}")
        with path.open("rb") as f:
            report = import_attendance(actor=None, actor_label="命令行导入", source=f, filename=path.name,
                                       dry_run=dry_run, covers=covers)
        self.stdout.write(f"文件：{report.filename}  数据行 {report.rows_total}，日期 {len(report.dates)} 天，"
                          f"缺勤/迟到/早退 {report.records}，出勤 {report.present}，跳过 {len(report.skipped)}")
        self.stdout.write(f"文件记录的是：{report.covers_label}")
        if report.covered:
            self.stdout.write(f"覆盖：{'、'.join(report.covered)}")
        if report.seen_off_roll:
            self.stdout.write(f"其中 {report.seen_off_roll} 行是已不在校（辍学等）的学生到校：记为“到校”")
        if report.skipped:
            self.stdout.write(f"跳过 {len(report.skipped)} 行（不是在校日）：")
            for p in report.skipped[:200]:
                self.stdout.write(f"  {p}")
        if report.problems:
            self.stdout.write(f"问题 {len(report.problems)} 个：")
            for p in report.problems[:200]:
                self.stdout.write(f"  {p}")
            raise CommandError(f"有 {len(report.problems)} 个问题，没有写入任何数据。")
        self.stdout.write("检查通过（--dry-run，未写入）。" if dry_run else self.style.SUCCESS("已导入。"))
