"""送教上门 shortfall against the plan, on the real calendar.

The rules (plans seen: 每周不少于2次，每次1至2课时，每学年不少于30课时; both are county settings,
`SpecialSettings`, and a plan's own values count when they are higher):

- **Visits a week**: each school week of the plan (a Monday-to-Sunday week that holds at least
  one school day of the school inside the plan's dates; holidays, the winter break and closures
  are not school days) needs the required number of visits, or as many as the week has school
  days when it has fewer. The week in progress is not judged yet.
- **Class hours a year**: the hours of all visits against the target. Once the plan has ended,
  below the target is short; before that, below the target's share of the school weeks passed
  is behind.

A year with no calendar is said so (`CalendarMissing`), never guessed.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from baoxue.calendar import workdays
from baoxue.special.models import HomeTeachingPlan, SpecialSettings

ONE_DAY = datetime.timedelta(days=1)
WEEK = datetime.timedelta(days=7)


def _d(day: datetime.date) -> str:
    return f"{day.month}月{day.day}日"


def _h(value: Decimal) -> str:
    """12.0 → "12", 1.5 → "1.5"."""
    text = f"{Decimal(value).quantize(Decimal('0.1')):f}"
    return text[:-2] if text.endswith(".0") else text


class SchoolDayBook:
    """School days of schools, read a calendar year at a time and kept: a list page asks for
    its plans in a constant number of queries (a few per school and year)."""

    def __init__(self):
        self._years: dict[tuple[int, int], set[datetime.date] | workdays.CalendarMissing] = {}

    def _year(self, school, year: int) -> set[datetime.date]:
        key = (school.pk, year)
        if key not in self._years:
            try:
                self._years[key] = set(workdays.school_days(school, datetime.date(year, 1, 1),
                                                            datetime.date(year, 12, 31)))
            except workdays.CalendarMissing as e:
                self._years[key] = e
        found = self._years[key]
        if isinstance(found, workdays.CalendarMissing):
            raise found
        return found

    def days(self, school, start: datetime.date, end: datetime.date) -> list[datetime.date]:
        """School days in [start, end]; raises CalendarMissing for a year without calendar."""
        out: list[datetime.date] = []
        for year in range(start.year, end.year + 1):
            out += [d for d in self._year(school, year) if start <= d <= end]
        return sorted(out)


@dataclass
class Week:
    monday: datetime.date
    school_days: int
    visits: int
    required: int
    in_progress: bool
    per_week: int

    @property
    def sunday(self) -> datetime.date:
        return self.monday + 6 * ONE_DAY

    @property
    def short(self) -> bool:
        return not self.in_progress and self.visits < self.required

    @property
    def text(self) -> str:
        few = f"（该周只有 {self.school_days} 个在校日）" if self.school_days == self.required < self.per_week else ""
        return f"{_d(self.monday)}–{_d(self.sunday)}：送教 {self.visits} 次，应 {self.required} 次{few}"


@dataclass
class Shortfall:
    plan: HomeTeachingPlan
    settings: SpecialSettings
    today: datetime.date
    per_week: int
    target: Decimal
    hours_done: Decimal
    visits: int
    unsigned: int
    weeks: list[Week] = field(default_factory=list)
    skipped_weeks: int = 0
    total_weeks: int | None = None
    calendar_error: str = ""

    @property
    def started(self) -> bool:
        return self.today >= self.plan.start_on

    @property
    def over(self) -> bool:
        return self.today > self.plan.end_on

    @property
    def short_weeks(self) -> list[Week]:
        return [w for w in self.weeks if w.short]

    @property
    def passed_weeks(self) -> int:
        return sum(1 for w in self.weeks if not w.in_progress)

    @property
    def expected_now(self) -> Decimal | None:
        """The target's share of the school weeks passed (None without the whole year's calendar)."""
        if not self.total_weeks:
            return None
        if self.over:
            return self.target
        return (self.target * self.passed_weeks / self.total_weeks).quantize(Decimal("0.1"))

    @property
    def hours_short(self) -> bool:
        """The plan has ended below the target."""
        return self.over and self.hours_done < self.target

    @property
    def hours_behind(self) -> bool:
        """Not ended yet, below the target's share of the weeks passed."""
        expected = self.expected_now
        return not self.over and expected is not None and self.hours_done < expected

    @property
    def plan_total(self) -> Decimal | None:
        if self.total_weeks is None:
            return None
        return self.plan.visits_per_week * self.plan.hours_per_visit * self.total_weeks

    @property
    def flags(self) -> list[str]:
        """Short words for the list page."""
        out = []
        if self.short_weeks:
            out.append(f"{len(self.short_weeks)} 周送教次数不足")
        if self.hours_short:
            out.append(f"学年课时不足：{_h(self.hours_done)}/{_h(self.target)}")
        elif self.hours_behind:
            out.append(f"课时落后进度：{_h(self.hours_done)}/{_h(self.expected_now)}")
        if self.unsigned:
            out.append(f"{self.unsigned} 次缺监护人签字")
        if self.calendar_error:
            out.append("校历缺失，无法全部核算")
        return out

    @property
    def lines(self) -> list[str]:
        """The computation in words, as the student's page shows it."""
        p, s = self.plan, self.settings
        lines = [
            f"规则：每周至少送教 {self.per_week} 次（县定 {s.visits_per_week} 次，计划 {p.visits_per_week} 次，取较高者）；"
            f"本学年至少 {_h(self.target)} 课时（县定 {s.hours_per_year} 课时，计划"
            f"{f' {p.hours_per_year} 课时' if p.hours_per_year else '未另定'}，取较高者）。",
        ]
        if not self.started:
            lines.append(f"计划自 {_d(p.start_on)} 开始，尚未开始核算。")
        else:
            until = min(p.end_on, self.today)
            skipped = f"；另有 {self.skipped_weeks} 周没有在校日（节假日、寒暑假或停课），不计" if self.skipped_weeks else ""
            lines.append(f"在校周：按真实校历，{p.start_on.year}年{_d(p.start_on)}至{until.year}年{_d(until)}，"
                         f"含在校日的周才计，已过 {self.passed_weeks} 个在校周{skipped}。")
            current = next((w for w in self.weeks if w.in_progress), None)
            if current:
                lines.append(f"本周（{_d(current.monday)}–{_d(current.sunday)}）进行中：已送教 {current.visits} 次，"
                             f"应 {current.required} 次。")
            if self.short_weeks:
                lines.append(f"送教次数不足的周（{len(self.short_weeks)} 周）：" + "；".join(w.text for w in self.short_weeks) + "。")
            elif self.passed_weeks:
                lines.append("已过的在校周每周送教次数都达到了要求。")
        hours = f"课时：已送教 {self.visits} 次，共 {_h(self.hours_done)} 课时，目标 {_h(self.target)} 课时"
        if self.over:
            hours += (f"；计划已于 {_d(p.end_on)} 结束，不足 {_h(self.target - self.hours_done)} 课时。" if self.hours_short
                      else "；计划已结束，已达到目标。")
        elif self.expected_now is not None and self.started:
            hours += (f"；全学年 {self.total_weeks} 个在校周，已过 {self.passed_weeks} 个，按进度应达 {_h(self.expected_now)} 课时"
                      + (f"，落后 {_h(self.expected_now - self.hours_done)} 课时。" if self.hours_behind else "，未落后。"))
        else:
            hours += "。"
        lines.append(hours)
        if self.plan_total is not None:
            enough = "" if self.plan_total >= self.target else "，低于学年目标：请调整计划（增加次数或每次课时）"
            lines.append(f"按计划：每周 {p.visits_per_week} 次 × 每次 {_h(p.hours_per_visit)} 课时 × {self.total_weeks} 个在校周"
                         f" = {_h(self.plan_total)} 课时{enough}。")
        if self.unsigned:
            lines.append(f"{self.unsigned} 次送教记录未上传监护人签字：请补传。")
        if self.calendar_error:
            lines.append(f"无法全部核算：{self.calendar_error}")
        return lines


def compute(plan: HomeTeachingPlan, settings: SpecialSettings, visits: list[tuple[datetime.date, Decimal, bool]],
            today: datetime.date, book: SchoolDayBook | None = None) -> Shortfall:
    """The shortfall of `plan` on `today`; `visits` are (date, hours, signed) of its visits.
    `plan.school` must be loaded (or loadable); `book` keeps school days across plans."""
    book = book or SchoolDayBook()
    per_week = max(settings.visits_per_week, plan.visits_per_week)
    target = Decimal(max(settings.hours_per_year, plan.hours_per_year or 0))
    result = Shortfall(plan=plan, settings=settings, today=today, per_week=per_week, target=target,
                       hours_done=sum((h for _, h, _ in visits), Decimal("0")), visits=len(visits),
                       unsigned=sum(1 for *_, signed in visits if not signed))
    school = plan.school
    try:
        result.total_weeks = len(_school_weeks(book.days(school, plan.start_on, plan.end_on)))
    except workdays.CalendarMissing as e:
        result.calendar_error = str(e)
    if not result.started:
        return result
    until = min(plan.end_on, today)
    # The week in progress is read whole: its requirement depends on all its school days.
    week_end = min(plan.end_on, today + (6 - today.weekday()) * ONE_DAY)
    try:
        try:
            days = book.days(school, plan.start_on, week_end)
        except workdays.CalendarMissing:
            days = book.days(school, plan.start_on, until)
    except workdays.CalendarMissing as e:
        result.calendar_error = str(e)
        return result
    by_week = _school_weeks(days)
    visit_weeks: dict[datetime.date, int] = {}
    for day, _, _ in visits:
        monday = day - day.weekday() * ONE_DAY
        visit_weeks[monday] = visit_weeks.get(monday, 0) + 1
    monday = plan.start_on - plan.start_on.weekday() * ONE_DAY
    while monday <= until:
        n = by_week.get(monday, 0)
        if n == 0:
            result.skipped_weeks += 1
        else:
            # A week the plan ends in counts as finished once the plan has ended.
            in_progress = monday <= today <= monday + 6 * ONE_DAY and today <= plan.end_on
            result.weeks.append(Week(monday=monday, school_days=n, visits=visit_weeks.get(monday, 0),
                                     required=min(per_week, n), in_progress=in_progress,
                                     per_week=per_week))
        monday += WEEK
    return result


def _school_weeks(days: list[datetime.date]) -> dict[datetime.date, int]:
    """Monday of each week with school days → how many."""
    weeks: dict[datetime.date, int] = {}
    for d in days:
        monday = d - d.weekday() * ONE_DAY
        weeks[monday] = weeks.get(monday, 0) + 1
    return weeks
