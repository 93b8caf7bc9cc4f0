"""`baoxue import-students FILE --school CODE [--dry-run] [--valid-rows-only] [--report X.xlsx]`."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from baoxue.org.imports import import_students, report_xlsx
from baoxue.org.models import School


class Command(BaseCommand):
    help = "从学籍系统导出的学生名册（.xlsx/.xls/.csv）导入学生；有问题行时不写入任何数据"

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--school", required=True, help="学校标识码")
        parser.add_argument("--dry-run", action="store_true", help="只检查并预览，不写入")
        parser.add_argument("--valid-rows-only", action="store_true", help="跳过问题行，只导入有效行")
        parser.add_argument("--report", help="把逐行问题清单写入这个 .xlsx 文件")
        parser.add_argument("--format", choices=["text", "json"], default="text")

    def handle(self, *args, file, school, dry_run, valid_rows_only, report, format, **opts):
        try:
            school_obj = School.objects.get(code=school)
        except School.DoesNotExist:
            raise CommandError(f"没有学校标识码为 {school} 的学校：请先用 baoxue school add 新建")
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"找不到文件：{file}")
        with path.open("rb") as f:
            result = import_students(actor=None, actor_label="命令行导入", source=f, filename=path.name,
                                     school=school_obj, valid_rows_only=valid_rows_only, dry_run=dry_run)
        if report:
            Path(report).write_bytes(report_xlsx(result))
        if format == "json":
            self.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
        else:
            self._print(result, dry_run)
        if result.problems and not result.committed:
            raise CommandError("没有写入任何数据。" + ("改正后重新导入，或加 --valid-rows-only 只导入有效行。" if result.valid_rows else ""))

    def _print(self, r, dry_run):
        w = self.stdout.write
        w(f"文件：{r.filename}  数据行 {r.rows_total}，有效 {r.valid_rows}")
        w(f"新增 {r.to_create}，更新 {r.to_update}，无变化 {r.unchanged}")
        if r.ignored_headers:
            w("忽略的列：" + "、".join(r.ignored_headers))
        for p in r.problems[:200]:
            w(f"  {p}")
        if len(r.problems) > 200:
            w(f"  …… 共 {len(r.problems)} 个问题，用 --report 导出完整清单")
        if r.committed:
            w(self.style.SUCCESS("已导入。"))
        elif dry_run and not r.problems:
            w("预览完成（--dry-run，未写入）。")
