"""巩固率 (retention rate) of a school and of a county, for one graduation year.

    巩固率 = 本届毕业生数 ÷（三年前入学人数 + 转入 − 转出）   (初中; 小学: 六年前)

capped at 100%, with every input listed and where it came from:

- 系统 (the system's records):
  - 本届毕业生数: students with 学籍状态 毕业 dated in the graduation school year (September 1 of
    year − 1 to August 31 of year). None yet → 缺少.
  - 转入, 转出: 学籍异动 of those types, not cancelled, dated within the cohort's years
    (September 1 of year − 3 to August 31 of year; 小学 year − 6), of the cohort's students.
  - 入学人数: the cohort's students who entered in its first school year (入学年月) and not by a 转入.
  (缺少 when some of the cohort's students have no 入学年月.)
  The cohort's students: those in the graduating grade (九年级 / 六年级, or named by the intake
  year: 2023级), those who entered in the cohort's first school year, and this year's graduates.
  Transfers and intake are the system's only when its records of the school reach back to the
  cohort's start (the school's first student record); otherwise they are 缺少, with what the
  system has shown as a hint.
- 手工填写: a value entered by the school (`RetentionInputs`), which overrides the system's.
- 缺少: neither: the rate is not computed until it is entered.

A nine-year school (九年一贯制) is counted as a junior school (its 初中 cohort). The county's rate
sums the inputs of its schools whose inputs are complete, and lists the others.

Every function here reads in a constant number of queries, whatever the number of schools.
"""

import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Exists, Min, OuterRef, Q
from django.utils import timezone

from baoxue.org.models import RegistryStatus, School, Stage, Student
from baoxue.registry.models import ChangeType, RegistryChange
from baoxue.reports.models import RETENTION_FIELDS, RetentionInputs

SYSTEM, HAND, MISSING = "系统", "手工填写", "缺少"
LABELS = {"graduates": "本届毕业生数", "intake": "入学人数", "transfers_in": "转入人数", "transfers_out": "转出人数"}
JUNIOR, PRIMARY = "junior", "primary"
STAGE_LABELS = {JUNIOR: "初中", PRIMARY: "小学"}
YEARS = {JUNIOR: 3, PRIMARY: 6}
FINAL_GRADE = {JUNIOR: 9, PRIMARY: 6}
FORMULAS = {
    JUNIOR: "巩固率 = 本届毕业生数 ÷（三年前入学人数 + 转入 − 转出）",
    PRIMARY: "巩固率 = 本届毕业生数 ÷（六年前入学人数 + 转入 − 转出）",
}
TARGETS = {JUNIOR: Decimal("0.95"), PRIMARY: None}
ONE = Decimal(1)


def cohort_stage(school: School) -> str:
    return PRIMARY if school.stage == Stage.PRIMARY else JUNIOR


def input_label(stage: str, key: str) -> str:
    if key == "intake":
        return f"{'三' if stage == JUNIOR else '六'}年前入学人数"
    return LABELS[key]


def window(stage: str, year: int) -> tuple[datetime.date, datetime.date]:
    """The cohort's years: September 1 of its first year to August 31 of the graduation year."""
    return datetime.date(year - YEARS[stage], 9, 1), datetime.date(year, 8, 31)


def latest_graduation_year(today: datetime.date | None = None) -> int:
    """The last graduation that has happened (graduation is in June/July)."""
    today = today or timezone.localdate()
    return today.year if today.month >= 7 else today.year - 1


def _cohort_q(stage: str, year: int, prefix: str = "") -> Q:
    """Students of the cohort graduating in `year` (see the module's docstring)."""
    p = prefix
    intake = year - YEARS[stage]
    return (Q(**{f"{p}school_class__grade__order": FINAL_GRADE[stage]})
            | Q(**{f"{p}school_class__grade__name": f"{intake}级"})
            | Q(**{f"{p}enrolled_on__range": (datetime.date(intake, 9, 1), datetime.date(intake + 1, 8, 31))})
            | Q(**{f"{p}status": RegistryStatus.GRADUATED,
                   f"{p}status_since__range": (datetime.date(year - 1, 9, 1), datetime.date(year, 8, 31))}))


def _by_stage(year: int, build) -> Q:
    """`build(stage)` for primary schools, and for the others (junior, nine-year) as junior."""
    return ((Q(school__stage=Stage.PRIMARY) & build(PRIMARY))
            | (~Q(school__stage=Stage.PRIMARY) & build(JUNIOR)))


def _system_values(schools: list[School], year: int) -> dict[int, dict]:
    """{school id: {"history_from", "graduates", "transfers_in", "transfers_out", "intake",
    "no_entry_date"}} from the records (five queries for any number of schools)."""
    ids = [s.pk for s in schools]
    out = {pk: {"history_from": None, "graduates": 0, "transfers_in": 0, "transfers_out": 0, "intake": 0,
                "no_entry_date": 0} for pk in ids}
    for row in (Student.objects.filter(school_id__in=ids).values("school_id")
                .annotate(first=Min("created_at"))):
        out[row["school_id"]]["history_from"] = timezone.localtime(row["first"]).date()
    for row in (Student.objects.filter(school_id__in=ids, status=RegistryStatus.GRADUATED,
                                       status_since__range=(datetime.date(year - 1, 9, 1), datetime.date(year, 8, 31)))
                .values("school_id").annotate(n=Count("id"))):
        out[row["school_id"]]["graduates"] = row["n"]
    transfers = (RegistryChange.objects.filter(school_id__in=ids, cancelled_on__isnull=True,
                                               change_type__in=[ChangeType.TRANSFER_IN, ChangeType.TRANSFER_OUT])
                 .filter(_by_stage(year, lambda st: Q(date__range=window(st, year)) & _cohort_q(st, year, "student__")))
                 .values("school_id", "change_type").annotate(n=Count("id")))
    for row in transfers:
        key = "transfers_in" if row["change_type"] == ChangeType.TRANSFER_IN else "transfers_out"
        out[row["school_id"]][key] = row["n"]
    came_by_transfer = RegistryChange.objects.filter(student=OuterRef("pk"), change_type=ChangeType.TRANSFER_IN,
                                                     cancelled_on__isnull=True)
    intake = (Student.objects.filter(school_id__in=ids)
              .filter(_by_stage(year, lambda st: Q(enrolled_on__range=(
                  datetime.date(year - YEARS[st], 9, 1), datetime.date(year - YEARS[st] + 1, 8, 31)))))
              .exclude(Exists(came_by_transfer)).values("school_id").annotate(n=Count("id")))
    for row in intake:
        out[row["school_id"]]["intake"] = row["n"]
    # Without 入学年月 a student's entry cannot be placed: the intake is then not the system's.
    for row in (Student.objects.filter(school_id__in=ids, enrolled_on__isnull=True)
                .filter(_by_stage(year, lambda st: _cohort_q(st, year))).values("school_id").annotate(n=Count("id"))):
        out[row["school_id"]]["no_entry_date"] = row["n"]
    return out


def _percent(rate: Decimal | None) -> str | None:
    return None if rate is None else f"{(rate * 100).quantize(Decimal('0.01'), ROUND_HALF_UP)}%"


def compute_rate(graduates, intake, transfers_in, transfers_out) -> tuple[Decimal | None, bool, str]:
    """(rate capped at 1, whether it was capped, a problem) from the four inputs."""
    if None in (graduates, intake, transfers_in, transfers_out):
        return None, False, ""
    base = intake + transfers_in - transfers_out
    if base <= 0:
        return None, False, "入学人数 + 转入 − 转出 不大于0：请核对数据"
    raw = Decimal(graduates) / Decimal(base)
    rate = min(raw, ONE).quantize(Decimal("0.0001"), ROUND_HALF_UP)
    return rate, raw > ONE, ""


def _result(school: School, year: int, system: dict, hand: RetentionInputs | None, today) -> dict:
    stage = cohort_stage(school)
    start, end = window(stage, year)
    history = system["history_from"]
    covers = history is not None and history <= start
    inputs = []
    values = {}
    for key in RETENTION_FIELDS:
        item = {"key": key, "label": input_label(stage, key), "value": None, "source": MISSING, "hint": "",
                "entered_by": "", "entered_at": None, "system_value": None}
        sys_value = system[key]
        if key == "graduates":
            if sys_value:
                item["system_value"] = sys_value
            elif year >= today.year:
                item["hint"] = "系统中还没有本届毕业生（学籍状态“毕业”）：请在毕业后核对或手工填写"
            else:
                item["hint"] = "系统中没有该届毕业生记录：请手工填写"
        elif key == "intake" and covers and system["no_entry_date"]:
            item["hint"] = (f"本届有{system['no_entry_date']}名学生没有入学年月，系统无法统计入学人数："
                            f"请补全学生的入学年月或手工填写（系统统计：{sys_value}人）")
        elif covers:
            item["system_value"] = sys_value
        else:
            since = f"{history.year}年{history.month}月" if history else ""
            item["hint"] = (f"系统自{since}起才有本校记录，早于此的数据请手工填写"
                            + (f"（系统记录：{sys_value}人）" if key != "intake" and sys_value else "")
                            if history else "系统中没有本校学生记录：请手工填写")
        hand_value = getattr(hand, key) if hand is not None else None
        if hand_value is not None:
            who = hand.entered.get(key, {})
            item.update(value=hand_value, source=HAND, entered_by=who.get("by", ""), entered_at=who.get("at"))
        elif item["system_value"] is not None:
            item.update(value=item["system_value"], source=SYSTEM)
        values[key] = item["value"]
        inputs.append(item)
    rate, capped, problem = compute_rate(values["graduates"], values["intake"], values["transfers_in"],
                                         values["transfers_out"])
    target = TARGETS[stage]
    missing = [i["label"] for i in inputs if i["value"] is None]
    return {
        "school": school.code, "school_name": school.name, "year": year, "stage": stage,
        "stage_label": STAGE_LABELS[stage], "cohort": {"from": start.isoformat(), "to": end.isoformat(),
                                                        "years": YEARS[stage]},
        "formula": FORMULAS[stage], "inputs": inputs, "missing": missing, "problem": problem,
        "computation": _computation(values, rate) if rate is not None else "",
        "rate": float(rate) if rate is not None else None, "percent": _percent(rate), "capped": capped,
        "target": float(target) if target is not None else None, "target_percent": _percent(target),
        "meets_target": (rate >= target) if rate is not None and target is not None else None,
        "note": hand.note if hand is not None else "",
    }


def _computation(values: dict, rate: Decimal) -> str:
    return (f"{values['graduates']} ÷（{values['intake']} + {values['transfers_in']} − {values['transfers_out']}）"
            f" = {_percent(rate)}")


def retention_many(schools: list[School], year: int, today: datetime.date | None = None) -> list[dict]:
    today = today or timezone.localdate()
    schools = list(schools)
    system = _system_values(schools, year)
    hand = {r.school_id: r for r in RetentionInputs.objects.filter(school__in=[s.pk for s in schools], year=year)}
    return [_result(s, year, system[s.pk], hand.get(s.pk), today) for s in schools]


def retention(school: School, year: int, today: datetime.date | None = None) -> dict:
    """The 巩固率 of `school` for the cohort graduating in `year`, with its inputs and their sources."""
    return retention_many([school], year, today)[0]


def county_retention(county, year: int, stage: str = JUNIOR, today: datetime.date | None = None) -> dict:
    """The county's 巩固率: the inputs summed over its schools of the stage whose inputs are
    complete (nine-year schools count as junior), the incomplete ones listed."""
    schools = School.objects.filter(county=county).order_by("code")
    schools = schools.filter(stage=Stage.PRIMARY) if stage == PRIMARY else schools.exclude(stage=Stage.PRIMARY)
    rows = retention_many(list(schools), year, today)
    complete = [r for r in rows if not r["missing"] and not r["problem"]]
    totals = {k: sum(next(i["value"] for i in r["inputs"] if i["key"] == k) for r in complete)
              for k in RETENTION_FIELDS}
    rate, capped, problem = (compute_rate(*(totals[k] for k in RETENTION_FIELDS)) if complete
                             else (None, False, ""))
    target = TARGETS[stage]
    return {
        "county": county.code, "county_name": county.name, "year": year, "stage": stage,
        "stage_label": STAGE_LABELS[stage], "formula": FORMULAS[stage], "schools": rows,
        "included": len(complete), "totals": totals if complete else None,
        "computation": _computation(totals, rate) if rate is not None else "",
        "rate": float(rate) if rate is not None else None, "percent": _percent(rate), "capped": capped,
        "problem": problem, "target": float(target) if target is not None else None,
        "target_percent": _percent(target),
        "meets_target": (rate >= target) if rate is not None and target is not None else None,
        "incomplete": [{"school": r["school"], "school_name": r["school_name"],
                        "missing": r["missing"] or [r["problem"]]} for r in rows if r not in complete],
    }
