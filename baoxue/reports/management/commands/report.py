"""`baoxue report monthly --school CODE --month 2026-04 [--format json|text]`: a school's figures for
a month (as the monthly report counts them, computed now from the records).

`baoxue report retention --school CODE | --county CODE --year 2026 [--format json|text]`: 巩固率
with its inputs and where each came from.

`baoxue report draft-due [--today 2026-05-06]`: draft the monthly reports that are due (what the
scheduler runs each day)."""

import datetime
import json

from django.core.management.base import BaseCommand, CommandError

from baoxue.calendar.workdays import CalendarMissing
from baoxue.org.models import County, School
from baoxue.reports import monthly, retention


class Command(BaseCommand):
    help = "学校月报告与巩固率：report monthly、report retention、report draft-due"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="what", required=True, metavar="monthly|retention|draft-due")
        m = sub.add_parser("monthly", help="某校某月的月报告数据")
        m.add_argument("--school", required=True, help="学校标识码（10位）")
        m.add_argument("--month", required=True, help="月份，例如 2026-04")
        m.add_argument("--format", choices=["json", "text"], default="text")
        r = sub.add_parser("retention", help="巩固率（学校或全县）")
        r.add_argument("--school", help="学校标识码（10位）")
        r.add_argument("--county", help="区县代码（6位）")
        r.add_argument("--year", type=int, required=True, help="毕业年份，例如 2026")
        r.add_argument("--stage", choices=["junior", "primary"], default="junior", help="全县：初中或小学（默认初中）")
        r.add_argument("--format", choices=["json", "text"], default="text")
        d = sub.add_parser("draft-due", help="生成到期的月报告草稿")
        d.add_argument("--today", help="按这一天计算（默认今天），例如 2026-05-06")

    def handle(self, *args, what, **opts):
        if what == "monthly":
            return self._monthly(opts["school"], opts["month"], opts["format"])
        if what == "retention":
            return self._retention(opts["school"], opts["county"], opts["year"], opts["stage"], opts["format"])
        return self._draft_due(opts["today"])

    def _school(self, code: str) -> School:
        school = School.objects.filter(code=(code or "").strip()).select_related("county").first()
        if school is None:
            raise CommandError(f"没有学校标识码为 {code} 的学校：请用 10 位学校标识码（baoxue school list 可查）")
        return school

    def _monthly(self, code: str, month_text: str, fmt: str) -> None:
        try:
            month = monthly.parse_month(month_text)
        except monthly.BadMonth as e:
            raise CommandError(f"{e}（--month 2026-04）")
        school = self._school(code)
        figures = monthly.monthly_figures(school, month)
        if fmt == "json":
            self.stdout.write(json.dumps(figures, ensure_ascii=False, indent=2))
            return
        self.stdout.write(f"{school.name} {monthly.month_label(month)}控辍保学月报告（{figures['period'][0]} 至 "
                          f"{figures['period'][1]}，按事件日期）")
        for key, label in monthly.NUMBERS:
            self.stdout.write(f"  {label}：{figures[key]}")
        grades = "，".join(f"{g['grade']} {g['n']}" for g in figures["enrolled_by_grade"])
        self.stdout.write(f"  月末在校生按年级：{grades or '无'}")
        groups = "，".join(f"{g['label']} {g['n']}" for g in figures["key_groups"] if g["n"])
        self.stdout.write(f"  重点群体：{groups or '无'}")
        for key, label in monthly.LISTS:
            items = figures["lists"][key]
            if items:
                self.stdout.write(f"  {label}：" + "、".join(f"{i['name']}（{i['date']}）" for i in items))
        if figures["open_cases"]:
            self.stdout.write("  月末未销账个案：")
            for c in figures["open_cases"]:
                self.stdout.write(f"    {c['name']}\t{c['class']}\t{c['registry_no']}\t首次缺勤 {c['first_absent_on']}"
                                  f"\t{c['stage_label']}")

    def _retention(self, school_code, county_code, year, stage, fmt) -> None:
        if bool(school_code) == bool(county_code):
            raise CommandError("请用 --school 学校标识码 或 --county 区县代码 之一")
        if not 2000 <= year <= 2100:
            raise CommandError(f"毕业年份 {year} 不对：请写四位年份，例如 --year 2026")
        if school_code:
            result = retention.retention(self._school(school_code), year)
        else:
            county = County.objects.filter(code=county_code.strip()).first()
            if county is None:
                raise CommandError(f"没有区县代码为 {county_code} 的区县：请用 6 位行政区划代码")
            result = retention.county_retention(county, year, stage)
        if fmt == "json":
            self.stdout.write(json.dumps(result, ensure_ascii=False, indent=2))
            return
        name = result.get("school_name") or result.get("county_name")
        self.stdout.write(f"{name} {year}届{result['stage_label']}巩固率：{result['percent'] or '无法计算'}")
        self.stdout.write(f"  {result['formula']}")
        if result["computation"]:
            self.stdout.write(f"  {result['computation']}" + ("（超过100%按100%计）" if result["capped"] else ""))
        if result.get("problem"):
            self.stdout.write(f"  {result['problem']}")
        if "inputs" in result:
            for i in result["inputs"]:
                value = "—" if i["value"] is None else i["value"]
                self.stdout.write(f"  {i['label']}：{value}（{i['source']}）" + (f" {i['hint']}" if i["hint"] and
                                                                             i["source"] == retention.MISSING else ""))
        else:
            self.stdout.write(f"  计入学校：{result['included']}/{len(result['schools'])}")
            for s in result["incomplete"]:
                self.stdout.write(f"  数据不全：{s['school_name']}（缺少{'、'.join(s['missing'])}）")

    def _draft_due(self, today_text) -> None:
        today = None
        if today_text:
            try:
                today = datetime.date.fromisoformat(today_text)
            except ValueError:
                raise CommandError(f"日期“{today_text}”无法识别：请写成 2026-05-06")
        try:
            n = monthly.draft_due(today)
        except CalendarMissing as e:
            raise CommandError(str(e))
        self.stdout.write(f"生成月报告草稿 {n} 份")
