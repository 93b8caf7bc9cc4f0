"""`baoxue import-graduates FILE --county CODE --year 2025 [--dry-run] [--format json]`."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from baoxue.org.models import County
from baoxue.registry.graduates import import_graduates


class Command(BaseCommand):
    help = "小学毕业学籍未接续核查：导入小学毕业生名单，与全部初中学校的学生比对，未找到的成为待核查事项"

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--county", required=True, help="区县行政区划代码（6位）")
        parser.add_argument("--year", type=int, required=True, help="毕业年份，例如 2025")
        parser.add_argument("--dry-run", action="store_true", help="只检查和比对，不写入")
        parser.add_argument("--format", choices=["text", "json"], default="text")

    def handle(self, *args, file, county, year, dry_run, format, **opts):
        try:
            county_obj = County.objects.get(code=county)
        except County.DoesNotExist:
            raise CommandError(f"没有行政区划代码为 {county} 的区县")
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"找不到文件：{file}")
        report = import_graduates(actor=None, actor_label="命令行导入", source=str(path), filename=path.name,
                                  county=county_obj, graduation_year=year, dry_run=dry_run)
        if format == "json":
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
        else:
            self.stdout.write(f"{county_obj.name} {year}年小学毕业生名单 {path.name}：{report.rows_total} 行")
            if report.ok:
                self.stdout.write(f"  已接续（在初中找到）：{report.continued}（按身份证件号 {report.matched_by_id}，"
                                  f"按姓名和出生日期 {report.matched_by_name_birth}）")
                self.stdout.write(f"  待核查：{report.to_check}（其中同名同生日多人 {report.ambiguous}）")
                if report.already_listed:
                    self.stdout.write(f"  已在此前的名单中，跳过：{len(report.already_listed)}")
                self.stdout.write("已导入。" if report.committed else "检查通过（--dry-run，未写入）。")
            for p in report.problems:
                self.stderr.write(str(p))
        if report.problems:
            raise CommandError(f"未导入：发现 {len(report.problems)} 个问题，请改正后重新导入")
