"""Demo attendance and 13510 cases: about five weeks of roll calls in every class, and the
runs of absence that give every stage, both ledgers, the 一生一表 and every inbox something
to show.

Part of `baoxue demo` (`baoxue.demo.county.build_demo` calls `build_attendance_demo` after the
people). Deterministic for a seed: every random choice comes from one generator seeded from
the demo's seed, drawn in a fixed order, and the only date it depends on is `today`.

How it is built, the way it would have happened:

1. The roll calls of the last school days of the current term up to the last school day on or
   before `today` are written in bulk (one `RollCall` per class and day, `AttendanceRecord`
   rows for the exceptions): a realistic background of single-day absences (mostly 病假 and
   事假, some 迟到 and 早退, a few 旷课 and 原因不明 days) plus planted runs (the stories below).
   One class of the first school has not taken the roll call of the last school day.
2. Then the school days are replayed one by one (the days of the terms before the window, which
   have no attendance at all, are recorded as evaluated in bulk): the daily job
   (`escalate(through=True)`) runs for the day, the head teachers do that day's tasks (联系家长,
   家访) as a diligent teacher would — except a couple left undone on purpose — and the office
   assigns persuaders, records the persuasion attempts, marks a student 失踪失联 and registers a
   复学, each through its service function with the right demo account.

Every planted story is one student; `STORIES` says which school gets which.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Callable

from django.utils import timezone

from baoxue.attendance.models import AttendanceRecord, LeaveRequest, Mark, RollCall
from baoxue.calendar import workdays
from baoxue.cases import services as case_services
from baoxue.cases.escalation import escalate, home_visit_due
from baoxue.cases.selectors import persuasion_clock
from baoxue.cases.models import (
    Case,
    ContactRecord,
    DropoutForm,
    Evaluation,
    HomeVisit,
    Outcome,
    PersuasionAttempt,
    Persuader,
    Report,
    Stage,
    Task,
)
from baoxue.org.models import FamilyMember, KeyGroup, KeyGroupMembership, RegistryStatus, SchoolClass, Student, Term

# How many school days of roll calls (about five weeks).
WINDOW_SCHOOL_DAYS = 25
# Share of student-days with a background exception (absence, late, early leave).
EXCEPTION_RATE = 0.007
BACKGROUND_MARKS = ((Mark.SICK, 44), (Mark.PERSONAL, 26), (Mark.LATE, 16), (Mark.EARLY, 8),
                    (Mark.TRUANT, 3), (Mark.UNKNOWN, 3))
REASONS = {
    Mark.SICK: ("感冒发烧", "感冒发烧", "咳嗽，去镇卫生院看病", "肠胃炎", "牙痛就医", "扭伤脚踝", "过敏性鼻炎复查",
                "水痘，居家休息"),
    Mark.PERSONAL: ("家中有事", "参加亲属婚礼", "随家长回老家办事", "爷爷去世，回家奔丧", "随家长办理身份证",
                    "家长带去县医院复查"),
    Mark.LATE: ("起晚了", "电动车坏在路上", "下雨路滑", "送妹妹去幼儿园", ""),
    Mark.EARLY: ("身体不适，家长接回", "牙痛就医", "家中有事，家长接走", "参加县里的比赛选拔"),
    Mark.TRUANT: ("", "", "去网吧上网"),
    Mark.UNKNOWN: ("",),
}
# What the head teacher heard when calling about a background 旷课 or 原因不明 day.
BACKGROUND_CONTACTS = {
    Mark.TRUANT: (
        ("孩子和同学去县城网吧上网，家长不知情", "家长已把孩子找回，答应明天按时送到校"),
        ("孩子早上赌气不愿上学，在家睡觉", "家长已做通孩子工作，明天到校"),
        ("孩子跟同学去河边玩了一天", "已向家长讲明安全风险，家长答应加强管教"),
    ),
    Mark.UNKNOWN: (
        ("奶奶说孩子肚子疼在家休息，忘了请假", "已提醒家长以后及时请假，明天到校"),
        ("家长在外务工，爷爷以为孩子去学校了", "孩子下午已回家，答应明天按时到校"),
        ("孩子去亲戚家喝喜酒，家长忘了请假", "已提醒家长按规定请假"),
    ),
}
# The three persuasion attempts of an open 疑似辍学 case (the first n of one of these).
SUSPECTED_STEPS = (
    (
        ("phone", ("teacher",), "孩子嫌学习累，想跟同乡外出打工", "家长答应周末再劝孩子返校", "约家长到校面谈"),
        ("home_visit", ("teacher", "office"), "孩子沉迷手机游戏，晚上不睡早上起不来",
         "孩子答应考虑，家长同意没收手机", "联合村委会再次上门"),
        ("joint", ("teacher", "office", "cadre"), "家长在外务工，祖辈管教不了",
         "孩子表示下周返校，家长写了保证书", "返校后安排帮扶教师一对一跟进"),
    ),
    (
        ("home_visit", ("teacher",), "孩子说跟不上课，在班里抬不起头", "孩子不愿开门见老师，家长很着急",
         "请政教处主任一起上门"),
        ("at_school", ("teacher", "office"), "家长到校面谈：孩子在家帮忙干农活",
         "家长答应农忙后送孩子返校", "联系村委会督促家长"),
        ("joint", ("teacher", "cadre", "police"), "孩子和社会青年来往，夜里不回家",
         "民警对孩子进行了法治教育，孩子答应返校", "返校后每天向家长反馈到校情况"),
    ),
)
CADRE_NAMES = ("王建国", "李保山", "张振华", "刘长青", "赵国强", "孙德明", "陈卫东", "杨红军", "郭新民", "马利军",
               "胡学军", "宋德胜")
POLICE_NAMES = ("刘涛", "张磊", "王鹏", "李斌", "赵辉", "孙亮", "高峰")
OFFICIAL_NAMES = ("赵海燕", "王红伟", "李晓峰", "张丽娟", "陈俊峰", "杨春燕")
WEEKDAYS = "一二三四五六日"

Event = Callable[[], None]


@dataclass
class AttendanceDemo:
    """What `build_attendance_demo` made, for the summary of `baoxue demo`."""

    first_day: date | None = None
    last_day: date | None = None
    school_days: int = 0
    roll_calls: int = 0
    records: dict[str, int] = field(default_factory=dict)  # mark label -> count
    leaves: int = 0
    missing_roll_calls: list[str] = field(default_factory=list)
    # stage label -> (open, closed), in stage order
    stages: dict[str, tuple[int, int]] = field(default_factory=dict)
    outcomes: dict[str, int] = field(default_factory=dict)  # outcome label -> count of closed cases
    insufficient: int = 0  # 劝返不足 on `today`
    overdue_tasks: int = 0
    attempts: int = 0
    contacts: int = 0
    visits: int = 0
    persuaders: int = 0
    reports: int = 0
    forms: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def cases(self) -> int:
        return sum(a + b for a, b in self.stages.values())

    @property
    def record_count(self) -> int:
        return sum(self.records.values())


@dataclass
class _Kid:
    id: int
    name: str
    school: object
    class_id: int
    class_label: str
    grade: int
    township: str
    village: str
    groups: set[str]
    guardian: str  # "祖母王秀兰"
    away_place: str  # where a parent works away, or ""
    teacher: object  # the head teacher's User


@dataclass
class _Plot:
    """One planted story: the student's attendance, what the head teacher found, and what the
    office does on which day."""

    kid: _Kid
    marks: dict[date, tuple[str, str]]
    contact: tuple[str, str, str] | None = None  # (method, reason given, result); None: left undone
    visit: str | None = None  # findings; None: left undone
    leave: tuple[str, date, date, str] | None = None
    events: list[tuple[date, Event]] = field(default_factory=list)


def build_attendance_demo(*, seed: int, today: date, county, schools: list, offices: dict) -> AttendanceDemo:
    """Roll calls, background absences and the planted runs for `schools`, replayed through
    the daily job up to the last school day on or before `today`. `offices` maps a school's
    pk to its office account (控辍保学办公室), who acts for the school."""
    return _AttendanceBuilder(seed=seed, today=today, county=county, schools=schools, offices=offices).build()


def _at(day: date, hour: int, minute: int) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def _when(before: date, after: date) -> str:
    """How a parent on `before` names the day `after`: 明天, 周一, 下周一."""
    if (after - before).days == 1:
        return "明天"
    prefix = "下" if after.isocalendar()[1] != before.isocalendar()[1] else ""
    return f"{prefix}周{WEEKDAYS[after.weekday()]}"


class _AttendanceBuilder:
    def __init__(self, *, seed: int, today: date, county, schools: list, offices: dict):
        # A generator of its own, so that the people of a seed stay what they were.
        self.rng = random.Random(f"baoxue-demo-attendance-{seed}")
        self.today = today
        self.county = county
        self.schools = schools
        self.offices = offices
        self.result = AttendanceDemo()
        self.rules = case_services.rules_for(county.pk)
        self.plots: dict[int, _Plot] = {}  # by student id
        self.outsiders: dict[tuple[str, str], dict] = {}
        self.tight_used: set[int] = set()
        self.skipped: list[tuple[date, int]] = []  # (day 3, run length) of stories left out

    # -- the build --

    def build(self) -> AttendanceDemo:
        try:
            self.days = self._windows()
        except workdays.CalendarMissing as e:
            self.result.warnings.append(f"未生成点名和 13510 个案：{e}")
            return self.result
        all_days = sorted({d for days in self.days.values() for d in days})
        if not all_days:
            self.result.warnings.append("本学期到今天还没有在校日：未生成点名和 13510 个案")
            return self.result
        self.result.first_day, self.result.last_day = all_days[0], all_days[-1]
        self.result.school_days = len(all_days)
        self._load_people()
        self.missing = self._missing_roll_call()
        for school in self.schools:
            self._plant(school)
        marks, leaves = self._background()
        for plot in self.plots.values():
            for day, mark in plot.marks.items():
                marks[(plot.kid.id, day)] = mark
            if plot.leave:
                leaves.append((plot.kid, *plot.leave))
        if self.skipped:
            first = min(day for day, _ in self.skipped)
            self.result.warnings.append(
                f"{len(self.skipped)} 段连续缺勤未生成：它们第{self.rules.visit_day}天（{first.isoformat()} 起）的家访待办"
                f"要查之后 40 天的在校日，跨入尚无工作日历的 {first.year + 1} 年，每日预警任务会出错"
                f"（baoxue.cases.escalation.home_visit_due 查不到日历）")
        self._write_attendance(marks, leaves)
        self._replay(all_days)
        self._count()
        return self.result

    def _windows(self) -> dict[int, list[date]]:
        """The last school days of each school's current term, up to today."""
        windows = {}
        for school in self.schools:
            term = Term.objects.filter(school=school, start__lte=self.today).order_by("-start").first()
            days = workdays.school_days(school, term.start, self.today) if term else []
            windows[school.pk] = days[-WINDOW_SCHOOL_DAYS:]
        return windows

    def _load_people(self) -> None:
        ids = [s.pk for s in self.schools]
        self.classes = {c.pk: c for c in SchoolClass.objects.filter(school_id__in=ids)
                        .select_related("grade", "head_teacher").order_by("pk")}
        school_by_id = {s.pk: s for s in self.schools}
        guardians: dict[int, str] = {}
        away: dict[int, str] = {}
        for m in FamilyMember.objects.filter(school_id__in=ids).order_by("student_id", "-is_guardian", "pk"):
            if m.is_guardian and m.student_id not in guardians:
                guardians[m.student_id] = f"{m.relation}{m.name}"
            if m.works_away and m.student_id not in away:
                away[m.student_id] = m.works_away_place
        groups: dict[int, set[str]] = defaultdict(set)
        for sid, group in (KeyGroupMembership.objects.filter(school_id__in=ids, ended_on__isnull=True)
                           .values_list("student_id", "group")):
            groups[sid].add(group)
        self.kids: dict[int, list[_Kid]] = defaultdict(list)  # in-school students by school
        rows = (Student.objects.filter(school_id__in=ids, status=RegistryStatus.IN_SCHOOL, school_class__isnull=False)
                .order_by("pk").values_list("pk", "name", "school_id", "school_class_id", "residence_township__name",
                                            "residence_village"))
        for pk, name, school_id, class_id, township, village in rows:
            cls = self.classes[class_id]
            self.kids[school_id].append(_Kid(
                id=pk, name=name, school=school_by_id[school_id], class_id=class_id, class_label=str(cls),
                grade=cls.grade.order, township=township or "", village=village, groups=groups[pk],
                guardian=guardians.get(pk, "家长"), away_place=away.get(pk, ""), teacher=cls.head_teacher,
            ))

    def _missing_roll_call(self) -> tuple[int, date] | None:
        """One class of the first school forgot the roll call of the last school day (not
        七年级(1)班/(2)班, whose head teachers are the demo's teacher71 and teacher72)."""
        school = self.schools[0]
        days = self.days[school.pk]
        if not days:
            return None
        candidates = [c for c in self.classes.values() if c.school_id == school.pk
                      and not (c.grade.order == 7 and c.name in ("(1)班", "(2)班"))]
        chosen = self.rng.choice(candidates)
        self.result.missing_roll_calls.append(f"{school.name} {chosen} {days[-1].isoformat()}")
        return chosen.pk, days[-1]

    # -- choosing students --

    def _pick(self, school, *, grades=None, groups=(), township: str = "", class_name: str = "") -> _Kid | None:
        """A student of `school` for a story: not yet in one, not in the class that missed a
        roll call; preferring the key groups given (the students most at risk)."""
        pool = [k for k in self.kids[school.pk] if k.id not in self.plots
                and (self.missing is None or k.class_id != self.missing[0])]
        if class_name:
            pool = [k for k in pool if k.class_label == class_name]
        if grades:
            pool = [k for k in pool if k.grade in grades] or pool
        if township:
            pool = [k for k in pool if k.township == township] or pool
        if groups:
            pool = [k for k in pool if k.groups & set(groups)] or pool
        return self.rng.choice(pool) if pool else None

    # -- people in the records --

    def _office(self, kid: _Kid):
        return self.offices[kid.school.pk]

    def _outsider(self, kind: str, kid: _Kid) -> dict:
        """The same village secretary, police officer or township cadre every time for a place."""
        place = kid.village if kind == "cadre" else kid.township
        key = (kind, place)
        if key not in self.outsiders:
            township = kid.township or kid.school.township.name
            if kind == "cadre":
                community = kid.village.endswith("社区")
                title = "社区书记" if community else "村支书"
                unit = f"{kid.village}{'居委会' if community else '村委会'}"
            elif kind == "police":
                title, unit = "民警", f"{township.removesuffix('镇')}派出所"
            else:
                title, unit = "包村干部", f"{township}人民政府"
            pool = {"cadre": CADRE_NAMES, "police": POLICE_NAMES, "township": OFFICIAL_NAMES}[kind]
            used = {p["name"] for (k, _), p in self.outsiders.items() if k == kind}
            name = self.rng.choice([n for n in pool if n not in used] or pool)
            self.outsiders[key] = {"name": name, "title": title, "unit": unit}
        return self.outsiders[key]

    def _participants(self, kid: _Kid, *who: str) -> list[dict]:
        rows = []
        for w in who:
            if w == "teacher":
                rows.append({"name": f"班主任{kid.teacher.first_name}", "unit": "学校"})
            elif w == "office":
                rows.append({"name": f"政教处主任{self._office(kid).first_name}", "unit": "学校"})
            else:
                person = self._outsider(w, kid)
                rows.append({"name": f"{person['title']}{person['name']}", "unit": person["unit"]})
        return rows

    # -- the story building blocks --

    def _day3_ok(self, school, day: date) -> bool:
        """Whether the daily job can open a day-3 task (家访跟进) on `day`: its due date is the
        next school day, which the job looks up among the next 40 days; a look-up that reaches
        a year with no calendar must not break the demo (see `skipped`)."""
        try:
            home_visit_due(school, day)
        except workdays.CalendarMissing:
            return False
        return True

    def _case(self, kid: _Kid) -> Case:
        return Case.objects.filter(student_id=kid.id).select_related("school").order_by("-id").first()

    def _assign(self, plot: _Plot, day: date) -> None:
        kid = plot.kid

        def event():
            case = self._case(kid)
            office = self._office(kid)
            case_services.persuader_assign(actor=office, case=case, name=kid.teacher.first_name, unit="学校",
                                           user=kid.teacher, on=day)
            cadre = self._outsider("cadre", kid)
            case_services.persuader_assign(actor=office, case=case, name=cadre["name"], unit=cadre["unit"],
                                           phone=self._phone(cadre["name"]), on=day)
        plot.events.append((day, event))

    def _phone(self, name: str) -> str:
        return "13" + str(abs(hash_text(name)) % 10**9).zfill(9)

    def _attempt(self, plot: _Plot, day: date, method: str, who: tuple[str, ...], reason: str, result: str,
                 next_step: str = "") -> None:
        kid = plot.kid

        def event():
            case_services.attempt_add(actor=self._office(kid), case=self._case(kid), date=day, method=method,
                                      participants=self._participants(kid, *who), reason_heard=reason,
                                      result=result, next_step=next_step)
        plot.events.append((day, event))

    def _plot(self, kid: _Kid | None, days: list[date], *, mark: str = Mark.TRUANT, reason: str = "",
              contact: tuple[str, str, str] | None, visit: str | None = None) -> _Plot | None:
        if kid is None or not days:
            return None
        visit_day = self.rules.visit_day
        if len(days) >= visit_day and not self._day3_ok(kid.school, days[visit_day - 1]):
            self.skipped.append((days[visit_day - 1], len(days)))
            return None
        plot = _Plot(kid=kid, marks={d: (mark, reason) for d in days}, contact=contact, visit=visit)
        self.plots[kid.id] = plot
        return plot

    # -- the stories --

    def _plant(self, school) -> None:
        days = self.days[school.pk]
        for name, *args in STORIES.get(self.schools.index(school) + 1, ()):
            getattr(self, f"_story_{name}")(school, days, len(days), *args)

    def _story_contact(self, school, days, n, length: int, done: bool, class_name: str = "") -> None:
        """An open run of 1–2 days: 联系家长 (done, or left undone so the inbox has a task)."""
        if n < length:
            return
        kid = self._pick(school, class_name=class_name)
        if kid is None:
            return
        contact = ("phone", f"{kid.guardian[:2]}说孩子早上出门时说去上学，不知道为什么没到校",
                   "家长正在找孩子，找到后回电话") if length == 1 else (
            "phone", "孩子跟家长闹别扭，不肯上学", "家长答应做通孩子工作，尽快送孩子到校")
        self._plot(kid, days[-length:], mark=Mark.UNKNOWN if length == 1 else Mark.TRUANT,
                   contact=contact if done else None)

    def _story_visit(self, school, days, n, length: int, done: bool, class_name: str = "") -> None:
        """An open run of 3–4 days: 家访跟进 (done, or left undone and overdue)."""
        if n < length:
            return
        kid = self._pick(school, class_name=class_name, groups=(KeyGroup.LEFT_BEHIND, KeyGroup.LEARNING))
        if kid is None:
            return
        self._plot(kid, days[-length:], contact=(
            "phone", "孩子说学习跟不上，不想上学", "家长答应劝孩子返校，效果不好"),
            visit=None if not done else (
                f"孩子在家，{kid.guardian}在场。孩子说数学、英语听不懂，上课没意思；已讲明义务教育法规定，"
                f"约定由任课老师课后辅导，孩子答应考虑返校"))

    def _story_suspected(self, school, days, n, attempts: int, tight: bool = False) -> None:
        """An open 疑似辍学 case with 0–3 attempts; `tight`: 3 or fewer working days left."""
        suspect = self.rules.suspect_day
        if tight:
            index = self._tight_index(days)
            if index is None:
                return
        elif attempts == 0:
            # Opened on the last school day, or as late as the daily job allows (see `_day3_ok`).
            visit = self.rules.visit_day
            index = next((i for i in range(n - 1, suspect - 2, -1)
                          if self._day3_ok(school, days[i - suspect + visit])), None)
            if index is None:
                return
        else:
            index = {1: n - 4, 2: n - 6, 3: n - 7}[attempts]
        start = index - (suspect - 1)
        if start < 0:
            return
        kid = self._pick(school, grades=(8, 9, 6), groups=(KeyGroup.LEFT_BEHIND, KeyGroup.LEARNING, KeyGroup.POOR))
        place = (kid.away_place or "广东东莞") if kid else ""
        plot = self._plot(kid, days[start:], contact=(
            "phone", "孩子说不想读书了，想出去打工", "家长管不住孩子，答应再劝劝"),
            visit=f"孩子在家玩手机，{kid.guardian if kid else ''}说管不住。孩子称成绩差、想去{place}打工；"
                  f"已讲明未成年人不能外出务工，孩子未表态")
        if plot is None:
            return
        suspected_on = days[index]
        if attempts == 0:
            return  # opened in the last days: the office has not assigned persuaders yet
        self._assign(plot, suspected_on)
        steps = self.rng.choice(SUSPECTED_STEPS)
        # Every other school day after the case opened (the last school day at the latest).
        spread = days[index:]
        chosen = [spread[min(len(spread) - 1, 1 + 2 * i)] for i in range(attempts)]
        for day, (method, who, reason, result, next_step) in zip(chosen, steps):
            self._attempt(plot, day, method, who, reason, result, next_step)

    def _tight_index(self, days: list[date]) -> int | None:
        """The latest day a case could have opened and still have only 1–3 working days left
        today (劝返不足 when it has fewer than 3 attempts); its deadline is after the last school
        day, so it is not a dropout yet."""
        for index in range(len(days) - 1, self.rules.suspect_day - 2, -1):
            try:
                due = workdays.add_working_days(days[index], self.rules.persuasion_working_days)
            except workdays.CalendarMissing:
                return None
            if due < days[-1]:
                return None
            left = workdays.working_days_left(self.today, due)
            if 1 <= left <= 3:
                if index in self.tight_used:  # a second such story opened a day earlier
                    continue
                self.tight_used.add(index)
                return index
        return None

    def _story_tight(self, school, days, n, attempts: int) -> None:
        self._story_suspected(school, days, n, attempts, tight=True)

    def _deadline_days(self, days: list[date], start: int) -> tuple[int, int] | None:
        """(index of the day-5 date, index of the first school day after the deadline) for a
        run starting at `start`, or None when the window does not reach that far."""
        index = start + self.rules.suspect_day - 1
        if index >= len(days):
            return None
        try:
            due = workdays.add_working_days(days[index], self.rules.persuasion_working_days)
        except workdays.CalendarMissing:
            return None
        after = [i for i, d in enumerate(days) if d > due]
        return (index, after[0]) if after else None

    def _story_dropout(self, school, days, n, start: int, resumed: bool, township: str = "") -> None:
        """Not back when the 10 working days were over: 辍学 (and, if `resumed`, 复学 later)."""
        found = self._deadline_days(days, start)
        if found is None:
            return
        index, dropped = found
        if resumed and dropped + 3 >= n:
            return
        kid = self._pick(school, grades=(8, 9, 6), township=township,
                         groups=(KeyGroup.LEFT_BEHIND, KeyGroup.LEARNING))
        if kid is None:
            return
        place = kid.away_place or "广东东莞"
        if resumed:
            plot = self._plot(kid, days[start:dropped + 1], contact=(
                "phone", "孩子和同学闹矛盾，不愿来学校", "家长答应做孩子工作"),
                visit=f"孩子在家，情绪低落，说在班里被同学孤立、不想上学；{kid.guardian}很着急。"
                      f"已安排心理老师介入")
            steps = [
                ("home_visit", ("teacher", "office"), "与同学的矛盾没有解开，孩子怕被笑话",
                 "孩子仍不愿返校，说再考虑考虑", "学校先调解同学矛盾"),
                ("at_school", ("teacher", "office"), "家长到校面谈，称孩子在家情绪好转",
                 "家长答应继续做孩子工作", "请村委会一起上门"),
                ("joint", ("teacher", "cadre"), "孩子担心落下的课补不上",
                 "孩子表示再考虑几天", "安排任课老师补课计划"),
            ]
        else:
            plot = self._plot(kid, days[start:dropped + 1], contact=(
                "phone", "孩子说不想上学了，要出去挣钱", "劝说家长督促孩子明天到校"),
                visit=f"孩子不在家，{kid.guardian}说孩子跟同村青年去{place}打工了；父母在外务工，对孩子管不住")
            steps = [
                ("phone", ("teacher", "office"), "学生厌学，成绩跟不上，想外出打工挣钱",
                 "学生在外打工，电话未接通，已联系其父亲", "联系学生父母，约定家访时间"),
                ("home_visit", ("teacher", "cadre"), f"父母在{place}务工，孩子随同乡外出打工",
                 "家长表示管不了孩子，答应劝孩子回来", "联合村委会、派出所再次劝返"),
                ("joint", ("teacher", "office", "cadre", "police"), f"学生在{place}一家电子厂打工",
                 "通过视频与学生沟通，学生仍不愿返校", "报告乡镇政府，继续劝返"),
            ]
        if plot is None:
            return
        suspected_on = days[index]
        self._assign(plot, suspected_on)
        before = days[index:dropped]
        chosen = [before[min(len(before) - 1, i * len(before) // 3)] for i in range(3)]
        for day, (method, who, reason, result, next_step) in zip(chosen, steps):
            self._attempt(plot, day, method, who, reason, result, next_step)
        # In the dropout ledger: the office fills in the 一生一表, persuasion goes on.
        self._form(plot, days[dropped], {
            "dropout_reason": "与同学发生矛盾，厌学" if resumed else "厌学，外出务工",
            "whereabouts": "在家" if resumed else f"外出务工（{place}）",
            "support": "心理老师疏导，学校调解同学矛盾，安排补课" if resumed
            else "班主任、村委会、派出所联合劝返；乡镇督促家长履行送子女入学义务",
        })
        later = days[min(dropped + 2, n - 1)]
        if resumed:
            back = next((d for d in days[dropped + 2:] if d.weekday() == 0 and d > later),
                        days[min(dropped + 3, n - 1)])
            self._attempt(plot, later, "joint", ("teacher", "office", "township", "cadre"),
                          "同学矛盾已由学校调解，孩子愿意回来",
                          f"家长答应{_when(later, back)}送孩子返校", "返校后安排帮扶教师一对一跟进")

            def resume():
                case_services.case_resume(actor=self._office(kid), case=self._case(kid), on=back,
                                          note="经联合劝返，学生返校复学，销账")
            plot.events.append((back, resume))
        else:
            self._attempt(plot, later, "joint", ("township", "cadre", "teacher"),
                          "学生在外打工，家长不愿让孩子回来", "家长答应春节前带孩子回来，学生本人仍有抵触",
                          "乡镇下达责令送被监护人接受义务教育通知书")

    def _story_missing(self, school, days, n, start: int) -> None:
        """Left home and unreachable: 失踪失联 → the dropout ledger at once."""
        index = start + self.rules.suspect_day - 1
        if index + 4 >= n:
            return
        kid = self._pick(school, grades=(8, 9, 6), groups=(KeyGroup.LEFT_BEHIND,))
        if kid is None:
            return
        gone = days[index + 4]
        plot = self._plot(kid, days[start:index + 5], mark=Mark.UNKNOWN, contact=(
            "phone", "孩子昨天晚上离家，说去县城同学家，一直没回来", "家长已去同学家找，没找到"),
            visit=f"{kid.guardian}称孩子三天前离家，手机关机；已联系亲戚和孩子的同学，均未找到。已建议家长报警")
        if plot is None:
            return
        self._assign(plot, days[index])
        self._attempt(plot, days[index + 1], "phone", ("teacher",), "听同学说孩子跟网友去外地打工",
                      "学生在外打工，电话未接通", "请派出所协助查找")
        self._attempt(plot, days[index + 3], "joint", ("teacher", "office", "police", "cadre"),
                      "家人也联系不上孩子，已向派出所报案", "派出所已协查，暂无下落", "报告乡镇政府和教育局")

        def mark_missing():
            case_services.case_mark_missing(actor=self._office(kid), case=self._case(kid), on=gone,
                                            note="离家出走，手机关机，家人和派出所均联系不上")
        plot.events.append((gone, mark_missing))
        self._form(plot, gone, {"whereabouts": "不明", "support": "派出所协查，村委会、学校持续寻找",
                                "remarks": "家长已报案"})

    def _story_returned(self, school, days, n, start: int, length: int) -> None:
        """A run that ended with the student back at school (已返校, 销账)."""
        if start + length >= n:
            return
        kid = self._pick(school)
        self._plot(kid, days[start:start + length], contact=(
            "phone", "孩子说肚子疼不想来，家长没当回事", "家长答应带孩子看病后送到校"),
            visit="孩子在家，身体无大碍，主要是周末玩手机太晚、作息乱；已和家长约定按时送孩子到校")

    def _story_excused(self, school, days, n, start: int) -> None:
        """原因不明 one day, then 病假 with a leave request: the run ends as excused."""
        if start + 3 >= n:
            return
        kid = self._pick(school)
        plot = self._plot(kid, [days[start]], mark=Mark.UNKNOWN, contact=(
            "phone", "孩子发烧，家长忙着带去卫生院，忘了请假", "家长补请病假，提供卫生院病历"))
        if plot is None:
            return
        sick = days[start + 1:start + 3]
        for d in sick:
            plot.marks[d] = (Mark.SICK, "发烧，镇卫生院就诊")
        plot.leave = (LeaveRequest.Kind.SICK, sick[0], sick[-1], "发烧，镇卫生院就诊（家长补交病历）")

    def _story_suspected_returned(self, school, days, n, start: int) -> None:
        """A 疑似辍学 case closed by return after one persuasion attempt."""
        index = start + self.rules.suspect_day - 1
        if index + 2 >= n:
            return
        kid = self._pick(school, grades=(7, 8, 9, 5, 6), groups=(KeyGroup.LEFT_BEHIND, KeyGroup.POOR))
        back = days[index + 2]
        plot = self._plot(kid, days[start:index + 2], contact=(
            "phone", "家里老人生病住院，孩子在家帮忙", "家长答应尽快安排，让孩子返校"),
            visit=f"老人住院，{kid.guardian if kid else '家长'}在医院陪护，孩子在家照看弟妹；已请村委会帮忙协调亲戚照看")
        if plot is None:
            return
        self._assign(plot, days[index])
        self._attempt(plot, days[index + 1], "home_visit", ("teacher", "cadre"), "家中老人生病无人照顾",
                      f"家长答应{_when(days[index + 1], back)}送孩子返校", "村委会协调亲戚照看老人")

    def _story_transfer_pending(self, school, days, n) -> None:
        """A 疑似辍学 case whose student the registry clerk then records as 转出 (a transfer
        recorded is not a transfer done): the case stays open, 学籍异动办理中, until 国网."""
        before = set(self.plots)
        self._story_suspected(school, days, n, 1)
        new = [self.plots[k] for k in set(self.plots) - before]
        if not new or n < 2:
            return
        kid, day = new[0].kid, days[n - 2]

        def event():
            from baoxue.registry.changes import registry_change_record

            student = Student.objects.get(pk=kid.id)
            registry_change_record(actor=self._office(kid), student=student, change_type="transfer_out", date=day,
                                   reason="家长称随父母外出务工，已联系外地学校", scope="cross_province",
                                   other_school=f"{kid.away_place or '广东东莞'}某初级中学")
        new[0].events.append((day, event))

    def _story_seen(self, school, days, n, start: int) -> None:
        """A dropout the head teacher saw at school on the last school day (到校, off the roll
        call): the office is asked whether to arrange 复学."""
        before = set(self.plots)
        self._story_dropout(school, days, n, start, False)
        new = [self.plots[k] for k in set(self.plots) - before]
        if new and n:
            new[0].marks[days[-1]] = (Mark.PRESENT, "到校找班主任，说想回来上学")

    def _form(self, plot: _Plot, day: date, data: dict) -> None:
        kid = plot.kid

        def event():
            form = DropoutForm.objects.filter(case__student_id=kid.id).order_by("-id").first()
            if form is not None:
                case_services.dropout_form_update(actor=self._office(kid), form=form, data=data)
        plot.events.append((day, event))

    # -- background --

    def _background(self) -> tuple[dict, list]:
        """Single-day absences, late arrivals and early leave of the other students; a few
        病假 last two or three days and come with a leave request."""
        rng = self.rng
        marks: dict[tuple[int, date], tuple[str, str]] = {}
        leaves: list = []
        kinds, weights = zip(*BACKGROUND_MARKS)
        for school in self.schools:
            days = self.days[school.pk]
            kids = [k for k in self.kids[school.pk] if k.id not in self.plots]
            busy: set[tuple[int, int]] = set()  # (student, day index) already taken or kept free
            for i, day in enumerate(days):
                for kid in kids:
                    if rng.random() >= EXCEPTION_RATE or (kid.id, i) in busy:
                        continue
                    if self.missing and (kid.class_id, day) == self.missing:
                        continue
                    mark = rng.choices(kinds, weights)[0]
                    reason = rng.choice(REASONS[mark])
                    span = [i]
                    if mark == Mark.SICK and rng.random() < 0.3:
                        for j in range(i + 1, min(i + rng.randint(2, 3), len(days))):
                            if (kid.id, j) in busy or (self.missing and (kid.class_id, days[j]) == self.missing):
                                break
                            span.append(j)
                    for j in span:
                        marks[(kid.id, days[j])] = (mark, reason)
                        busy.add((kid.id, j))
                    busy.add((kid.id, span[-1] + 1))  # a single day stays single
                    if len(span) > 1:
                        leaves.append((kid, LeaveRequest.Kind.SICK, days[span[0]], days[span[-1]], reason))
        return marks, leaves

    def _write_attendance(self, marks: dict, leaves: list) -> None:
        roll_calls = []
        for school in self.schools:
            classes = [c for c in self.classes.values() if c.school_id == school.pk]
            for day in self.days[school.pk]:
                for c in classes:
                    if self.missing and (c.pk, day) == self.missing:
                        continue
                    roll_calls.append(RollCall(county_id=school.county_id, school_id=school.pk, school_class_id=c.pk,
                                               date=day, taken_by=c.head_teacher))
        RollCall.objects.bulk_create(roll_calls, batch_size=1000)
        kid_by_id = {k.id: k for kids in self.kids.values() for k in kids}
        records = []
        for (sid, day), (mark, reason) in sorted(marks.items(), key=lambda item: (item[0][1], item[0][0])):
            kid = kid_by_id[sid]
            records.append(AttendanceRecord(county_id=kid.school.county_id, school_id=kid.school.pk, student_id=sid,
                                            date=day, mark=mark, reason=reason, recorded_by=kid.teacher))
        AttendanceRecord.objects.bulk_create(records, batch_size=1000)
        LeaveRequest.objects.bulk_create([
            LeaveRequest(county_id=kid.school.county_id, school_id=kid.school.pk, student_id=kid.id, kind=kind,
                         start=start, end=end, reason=reason, approved_by=kid.teacher, approved_at=_at(start, 7, 40))
            for kid, kind, start, end, reason in leaves
        ])
        # The times a head teacher takes the roll call and marks absentees, not the time of the build.
        for day in sorted({r.date for r in roll_calls}):
            RollCall.objects.filter(school_id__in=[s.pk for s in self.schools], date=day).update(
                taken_at=_at(day, 8, 5), updated_at=_at(day, 8, 5))
            AttendanceRecord.objects.filter(school_id__in=[s.pk for s in self.schools], date=day).update(
                recorded_at=_at(day, 8, 6))
        self.result.roll_calls = len(roll_calls)
        self.result.records = {label: n for value, label in Mark.choices
                               if (n := sum(1 for r in records if r.mark == value))}
        self.result.leaves = len(leaves)

    # -- the replay --

    def _before_window(self) -> None:
        """The school days of the demo's terms before the roll-call window have no attendance at
        all, so the daily job finds nothing there (no run can start on a day nobody looked).
        They are recorded as evaluated in bulk instead of replayed one by one (about 300 days a
        school, most of the demo's time otherwise), so that `escalate --through` starts at the
        window as it would have after daily runs."""
        rows = []
        for school in self.schools:
            days = self.days[school.pk]
            first = Term.objects.filter(school=school).order_by("start").values_list("start", flat=True).first()
            if not days or first is None or Evaluation.objects.filter(school=school).exists():
                continue
            for day in workdays.school_days(school, first, days[0] - timedelta(days=1)):
                rows.append(Evaluation(county_id=school.county_id, school_id=school.pk, date=day))
        Evaluation.objects.bulk_create(rows, batch_size=1000)

    def _replay(self, all_days: list[date]) -> None:
        """Day by day: the daily job, then the head teachers' tasks, then the office's work."""
        self._before_window()
        events: dict[date, list[Event]] = defaultdict(list)
        for plot in self.plots.values():
            for day, event in plot.events:
                events[day].append(event)
        for day in all_days:
            escalate(day=day, through=True, schools=self.schools)
            self._teachers(day)
            for event in events.pop(day, []):
                event()
        for day in sorted(events):  # anything dated after the last school day (none planned)
            for event in events[day]:
                event()

    def _teachers(self, day: date) -> None:
        """A diligent head teacher calls the guardian on day 1 and visits on day 3, the same day;
        the plots that say so leave theirs undone."""
        tasks = (Task.objects.filter(school_id__in=[s.pk for s in self.schools], opened_on=day,
                                     done_on__isnull=True, closed_on__isnull=True)
                 .select_related("case", "assignee").order_by("pk"))
        kid_by_id = {k.id: k for kids in self.kids.values() for k in kids}
        for task in tasks:
            kid = kid_by_id.get(task.case.student_id)
            if kid is None:
                continue
            plot = self.plots.get(kid.id)
            teacher = task.assignee or kid.teacher
            if task.kind == Task.Kind.CONTACT_GUARDIAN:
                if plot is not None:
                    if plot.contact is None:
                        continue
                    method, reason, result = plot.contact
                else:
                    first = AttendanceRecord.objects.filter(student_id=kid.id, date=task.opened_on).first()
                    pool = BACKGROUND_CONTACTS.get(first.mark if first else Mark.UNKNOWN,
                                                   BACKGROUND_CONTACTS[Mark.UNKNOWN])
                    reason, result = self.rng.choice(pool)
                    method = self.rng.choice(("phone", "phone", "wechat"))
                case_services.contact_add(actor=teacher, case=task.case,
                                          at=_at(day, 8, self.rng.randrange(30, 59)), method=method,
                                          reached=kid.guardian, reason_given=reason, result=result)
            elif task.kind == Task.Kind.HOME_VISIT:
                findings = plot.visit if plot is not None else (
                    f"见到{kid.guardian}，孩子在家，答应明天到校；已讲明按时上学的规定")
                if findings is None:
                    continue
                office = self._office(kid)
                case_services.home_visit_add(actor=teacher, case=task.case, date=day,
                                             visitors=f"{teacher.first_name}（班主任）、{office.first_name}（政教处）",
                                             met=kid.guardian, findings=findings)

    # -- the summary --

    def _count(self) -> None:
        ids = [s.pk for s in self.schools]
        cases = list(Case.objects.filter(school_id__in=ids).select_related("rules").prefetch_related("attempts"))
        by_stage = Counter((c.stage, c.is_open) for c in cases)
        self.result.stages = {label: (by_stage[(value, True)], by_stage[(value, False)])
                              for value, label in Stage.choices}
        outcomes = Counter(c.outcome for c in cases if not c.is_open)
        self.result.outcomes = {label: outcomes[value] for value, label in Outcome.choices if outcomes[value]}
        self.result.insufficient = sum(
            1 for c in cases if persuasion_clock(c, today=self.today, attempts=len(c.attempts.all())).short)
        self.result.overdue_tasks = Task.objects.filter(school_id__in=ids, done_on__isnull=True, closed_on__isnull=True,
                                                        due_on__lte=self.today).count()
        self.result.attempts = PersuasionAttempt.objects.filter(case__school_id__in=ids).count()
        self.result.contacts = ContactRecord.objects.filter(case__school_id__in=ids).count()
        self.result.visits = HomeVisit.objects.filter(case__school_id__in=ids).count()
        self.result.persuaders = Persuader.objects.filter(case__school_id__in=ids).count()
        self.result.reports = Report.objects.filter(case__school_id__in=ids).count()
        self.result.forms = DropoutForm.objects.filter(case__school_id__in=ids).count()


def hash_text(text: str) -> int:
    """A stable hash (Python's `hash` of a str changes between runs)."""
    value = 0
    for ch in text:
        value = (value * 131 + ord(ch)) % (2**61 - 1)
    return value


# Which stories each school gets, by the position of the school in the demo (1 = the first
# junior school, 4 = the primary school). Window positions are school-day indexes from the
# start of the roll-call window; the open runs end on the last school day.
STORIES: dict[int, tuple[tuple, ...]] = {
    1: (
        ("contact", 1, False, "七年级(1)班"),  # teacher71: 联系家长 due on the last school day, not done
        ("contact", 2, True),
        ("visit", 3, True),
        ("visit", 4, False, "七年级(2)班"),  # teacher72: 家访 overdue
        ("suspected", 0),
        ("suspected", 1),
        ("tight", 2),  # 劝返不足
        ("tight", 3),
        ("dropout", 0, False, "留固镇"),  # not back after the deadline; the township gets the report
        ("missing", 2),
        ("returned", 5, 2),
        ("returned", 11, 3),
        ("excused", 15),
        ("suspected_returned", 8),
    ),
    2: (
        ("contact", 1, True),
        ("visit", 3, True),
        ("suspected", 1),
        ("dropout", 1, True, "留固镇"),  # 辍学, then 复学
        ("returned", 3, 2),
        ("excused", 12),
    ),
    3: (
        ("contact", 2, True),
        ("visit", 4, True),
        ("suspected", 2),
        ("returned", 9, 3),
        ("transfer_pending",),  # 转出 recorded mid-case: 学籍异动办理中
        ("seen", 1),  # a dropout seen at school: 办理复学？
    ),
    4: (
        ("contact", 1, True),
        ("returned", 6, 2),
        ("excused", 17),
    ),
}
