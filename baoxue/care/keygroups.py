"""The key-group page's numbers: who is in which group (and subtype) per grade and class, and
how that changed over the school year — each in one query, whatever the school's size.

Junior middle school is the key stage (plan §4: 初中阶段是控辍保学的重点): grades 7–9.
"""

import datetime
from dataclasses import dataclass, field

from django.db.models import Count, Q

from baoxue.org.forms import current_key_group_q
from baoxue.org.models import KEY_GROUP_SUBTYPES, Grade, KeyGroup, KeyGroupMembership, RegistryStatus, SchoolClass

KEY_STAGE_ORDERS = (7, 8, 9)
# Students the school still holds: counted in the groups (a transferred or graduated student is not).
ON_ROLL = (RegistryStatus.IN_SCHOOL, RegistryStatus.SUSPENDED)


def is_key_stage(grade: Grade) -> bool:
    return grade.order in KEY_STAGE_ORDERS


def school_year_start(today: datetime.date) -> datetime.date:
    """A school year runs from September 1 (the autumn term) to the next August."""
    return datetime.date(today.year if today.month >= 9 else today.year - 1, 9, 1)


@dataclass
class Overview:
    grades: list
    classes: list
    groups: list  # [{"group", "label", "n", "subtypes": [(subtype, n)]}]
    by_grade: list  # [{"grade", "key_stage", "cells": [(group, n)], "total"}]
    total: int
    months: list  # [{"month": date, "cells": [(started, ended) per group]}]
    rows: list = field(default_factory=list)  # the list behind a count


def _current(today):
    return current_key_group_q(today) & Q(started_on__lte=today)


def overview(school, *, today: datetime.date, grade: Grade | None = None, school_class: SchoolClass | None = None,
             group: str = "", subtype: str = "") -> Overview:
    grades = list(Grade.objects.filter(school=school).order_by("order", "name"))
    classes = list(SchoolClass.objects.filter(school=school).select_related("grade").order_by("grade__order", "name"))
    scope = Q(school=school)
    if grade is not None:
        scope &= Q(student__school_class__grade=grade)
    if school_class is not None:
        scope &= Q(student__school_class=school_class)
    held = KeyGroupMembership.objects.filter(scope, student__status__in=ON_ROLL)
    current = held.filter(_current(today))

    cells: dict[tuple[int | None, str, str], int] = {
        (r["student__school_class__grade_id"], r["group"], r["subtype"]): r["n"]
        for r in current.values("student__school_class__grade_id", "group", "subtype")
        .annotate(n=Count("student", distinct=True))}
    group_n = {r["group"]: r["n"] for r in current.values("group").annotate(n=Count("student", distinct=True))}
    grade_totals = {r["student__school_class__grade_id"]: r["n"] for r in
                    current.values("student__school_class__grade_id").annotate(n=Count("student", distinct=True))}
    total = sum(grade_totals.values())

    groups = []
    for g, label in KeyGroup.choices:
        known = KEY_GROUP_SUBTYPES.get(g, [])
        subs: dict[str, int] = {}
        for (_, cg, sub), n in cells.items():
            if cg == g:
                subs[sub or "未分类"] = subs.get(sub or "未分类", 0) + n
        ordered = [(s, subs.pop(s, 0)) for s in known] + sorted(subs.items())
        groups.append({"group": g, "label": label, "n": group_n.get(g, 0),
                       "subtypes": [(s, n) for s, n in ordered if n or s in known] if known or subs else []})

    by_grade = []
    for gr in ([grade] if grade is not None else grades):
        row = [(g, sum(n for (gid, cg, _), n in cells.items() if gid == gr.pk and cg == g)) for g, _ in KeyGroup.choices]
        by_grade.append({"grade": gr, "key_stage": is_key_stage(gr), "cells": row, "total": grade_totals.get(gr.pk, 0)})

    start = school_year_start(today)
    changes: dict[tuple[datetime.date, str], list[int]] = {}
    for g, started, ended in (KeyGroupMembership.objects.filter(scope)
                              .filter(Q(started_on__gte=start, started_on__lte=today)
                                      | Q(ended_on__gte=start, ended_on__lte=today))
                              .values_list("group", "started_on", "ended_on")):
        if start <= started <= today:
            changes.setdefault((started.replace(day=1), g), [0, 0])[0] += 1
        if ended and start <= ended <= today:
            changes.setdefault((ended.replace(day=1), g), [0, 0])[1] += 1
    months, m = [], start
    while m <= today:
        months.append({"month": m, "cells": [tuple(changes.get((m, g), (0, 0))) for g, _ in KeyGroup.choices]})
        m = datetime.date(m.year + (m.month == 12), m.month % 12 + 1, 1)

    rows = []
    if group:
        qs = current.filter(group=group)
        if subtype:
            qs = qs.filter(subtype="" if subtype == "未分类" else subtype)
        rows = list(qs.select_related("student__school_class__grade", "student__school_class__head_teacher")
                    .order_by("student__school_class__grade__order", "student__school_class__name", "student__name"))
    return Overview(grades=grades, classes=classes, groups=groups, by_grade=by_grade, total=total,
                    months=months, rows=rows)
