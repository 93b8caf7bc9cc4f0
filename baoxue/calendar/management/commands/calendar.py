"""`baoxue calendar …`: terms, closures, the working-day table, working-day arithmetic, the monthly
submission day and school-day counts."""

import datetime
import re

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError

from baoxue.calendar import workdays
from baoxue.calendar.models import CalendarYear
from baoxue.calendar.services import calendar_seed, calendar_year_set, closure_add
from baoxue.org.models import County, School
from baoxue.org.services import term_add


def iso(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"日期“{text}”格式不对：请写成 2025-09-01")


def year_month(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"(\d{4})-(\d{2})", text.strip())
    if not m or not 1 <= int(m[2]) <= 12:
        raise CommandError(f"月份“{text}”格式不对：请写成 2025-09（四位年份-两位月份）")
    return int(m[1]), int(m[2])


def school_by_code(code: str) -> School:
    try:
        return School.objects.get(code=code)
    except School.DoesNotExist:
        raise CommandError(f"没有学校标识码为 {code} 的学校")


class Command(BaseCommand):
    help = ("校历：add-term 新建学期，close 停课日，working-day 工作日计算，submission-day 每月报批休学日，"
            "school-days 在校日天数，seed 录入工作日历，set-year 手工录入一年，status 查看")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        p = sub.add_parser("add-term", help="新建学期")
        p.add_argument("--school", required=True)
        p.add_argument("--name", required=True, help="如 2025-2026-1")
        p.add_argument("--start", required=True)
        p.add_argument("--end", required=True)
        p = sub.add_parser("close", help="登记停课日（学校或全县）")
        g = p.add_mutually_exclusive_group(required=True)
        g.add_argument("--school")
        g.add_argument("--county", help="6位行政区划代码：全县停课")
        p.add_argument("--date", required=True)
        p.add_argument("--reason", default="")
        p = sub.add_parser("working-day", help="N个工作日之后是哪天（起始日不计）")
        p.add_argument("--from", dest="start", required=True)
        p.add_argument("--add", type=int, default=1)
        p = sub.add_parser("submission-day", help="某月到教体局报批休学的日期（每月20日，遇周末或节假日顺延）")
        p.add_argument("month", help="如 2025-09")
        p = sub.add_parser("school-days", help="学校在某段日期内的在校日天数（含首尾）")
        p.add_argument("--school", required=True)
        p.add_argument("--from", dest="start", required=True)
        p.add_argument("--to", dest="end", required=True)
        p = sub.add_parser("seed", help="从 chinese-calendar 录入其包含的年份")
        p.add_argument("--replace", action="store_true", help="重新录入已由 chinese-calendar 录入的年份")
        p = sub.add_parser("set-year", help="手工录入一年：节假日和调休上班日")
        p.add_argument("year", type=int)
        p.add_argument("--holiday", action="append", default=[],
                       help="放假日期或区间及名称，如 2027-10-01..2027-10-07:国庆节")
        p.add_argument("--workday", action="append", default=[], help="调休上班日，如 2027-09-26")
        sub.add_parser("status", help="已录入工作日历的年份")

    def handle(self, *args, action, **o):
        getattr(self, "do_" + action.replace("-", "_"))(**o)

    def do_add_term(self, *, school, name, start, end, **_):
        s = school_by_code(school)
        try:
            term = term_add(actor=None, school=s, name=name, start=iso(start), end=iso(end))
        except (ValidationError, IntegrityError) as e:
            raise CommandError(f"无法新建学期：{'；'.join(getattr(e, 'messages', [str(e)]))}（学期名形如 2025-2026-1，且同校不重名）")
        self.stdout.write(f"已新建学期：{s.name} {term.name}（{term.start} 至 {term.end}）")

    def do_close(self, *, school, county, date, reason, **_):
        day = iso(date)
        try:
            if school:
                closure_add(actor=None, school=school_by_code(school), date=day, reason=reason)
            else:
                c = County.objects.filter(code=county).first()
                if c is None:
                    raise CommandError(f"没有行政区划代码为 {county} 的区县")
                closure_add(actor=None, county=c, date=day, reason=reason)
        except IntegrityError:
            raise CommandError(f"{day} 已登记为停课日")
        self.stdout.write(f"已登记停课：{workdays.cn_date(day)} {reason}".rstrip())

    def do_working_day(self, *, start, add, **_):
        try:
            self.stdout.write(workdays.add_working_days(iso(start), add).isoformat())
        except workdays.CalendarMissing as e:
            raise CommandError(str(e))

    def do_submission_day(self, *, month, **_):
        year, mon = year_month(month)
        try:
            self.stdout.write(workdays.submission_day(year, mon).isoformat())
        except workdays.CalendarMissing as e:
            raise CommandError(str(e))

    def do_school_days(self, *, school, start, end, **_):
        s = school_by_code(school)
        first, last = iso(start), iso(end)
        if last < first:
            raise CommandError(f"结束日期 {last} 早于开始日期 {first}：--to 不能早于 --from")
        try:
            self.stdout.write(str(len(workdays.school_days(s, first, last))))
        except workdays.CalendarMissing as e:
            raise CommandError(str(e))

    def do_seed(self, *, replace, **_):
        years = calendar_seed(actor=None, replace=replace)
        self.stdout.write(f"已录入：{years[0]}–{years[-1]}" if years else "没有需要录入的年份（已全部录入）")

    def do_set_year(self, *, year, holiday, workday, **_):
        holidays: dict[datetime.date, str] = {}
        for item in holiday:
            span, _, name = item.partition(":")
            first, _, last = span.partition("..")
            day, end = iso(first), iso(last or first)
            while day <= end:
                holidays[day] = name or "节假日"
                day += datetime.timedelta(days=1)
        try:
            calendar_year_set(actor=None, year=year, holidays=holidays, workdays=[iso(d) for d in workday])
        except ValueError as e:
            raise CommandError(str(e))
        self.stdout.write(f"已录入 {year} 年：放假 {len(holidays)} 天，调休上班 {len(workday)} 天")

    def do_status(self, **_):
        for y in CalendarYear.objects.all():
            self.stdout.write(f"{y.year}\t{y.source}")
