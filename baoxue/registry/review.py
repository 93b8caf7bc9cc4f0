"""学期学籍梳理 (term review): 每学期开学后两月内全面梳理本校学生学籍异动情况 (plan §2).

- The deadline: two months after the term's start (the same day two months later; when that
  month has no such day, its last day), moved to the next working day when it is not one
  (遇周末或节假日顺延). A year without calendar raises `CalendarMissing`: never a guess.
- The reminder: two weeks (`REMINDER_DAYS`) before the deadline.
- The review lists every change of the term, the open work items (人籍不一致, 小学毕业生未接续)
  and the reconciliation status; the office director and the principal sign it off, each once.
  A review somebody has signed is not rebuilt: what was signed stays as it was.
"""

import datetime
import io

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from baoxue.audit.models import Action
from baoxue.audit.services import audit_record
from baoxue.calendar import workdays
from baoxue.lib.dates import add_months
from baoxue.lib.idcard import mask_registry_no
from baoxue.org.models import Membership, Role, School, Term
from baoxue.registry.changes import PROCESSING_FILTERS, status_label
from baoxue.registry.models import (
    Category,
    ChangeType,
    Discrepancy,
    Graduate,
    ItemStatus,
    RegistryChange,
    RosterUpload,
    TermReview,
)

REVIEW_MONTHS = 2
REMINDER_DAYS = 14

# Who signs: the office director (控辍保学办公室, at 政教处) and the principal (组长).
SIGNERS = {
    "office": (Role.OFFICE, "办公室主任", "office_signed_by", "office_signed_at"),
    "principal": (Role.LEADER, "校长", "principal_signed_by", "principal_signed_at"),
}


def review_due(term: Term) -> datetime.date:
    """开学后两月内: two months after the term's start, moved to the next working day when
    that day is not one. Raises `CalendarMissing` for a year without calendar."""
    return workdays.on_or_next_working_day(add_months(term.start, REVIEW_MONTHS))


def review_reminder_on(term: Term) -> datetime.date:
    """The reminder shows from two weeks before the deadline."""
    return review_due(term) - datetime.timedelta(days=REMINDER_DAYS)


def current_term(school: School, today: datetime.date | None = None) -> Term | None:
    """The term containing today, else the most recent one that has started, else the next."""
    today = today or timezone.localdate()
    terms = Term.objects.filter(school=school)
    return (terms.filter(start__lte=today).order_by("-start").first()
            or terms.order_by("start").first())


def _person(user) -> str:
    if not user:
        return ""
    return user.get_full_name() or user.get_username()


def _iso(day) -> str | None:
    return day.isoformat() if day else None


def build_summary(school: School, term: Term) -> dict:
    """What the review lists, as stored JSON (dates ISO, identifiers masked)."""
    changes = (RegistryChange.objects.filter(school=school, date__gte=term.start, date__lte=term.end)
               .select_related("student__school_class__grade", "handled_by").order_by("date", "id"))
    change_rows = [{
        "id": c.pk, "date": c.date.isoformat(), "student": c.student.name, "student_id": c.student_id,
        "class": c.student.class_label, "type": c.change_type, "type_label": c.get_change_type_display(),
        "reason": c.reason, "scope": c.get_scope_display() if c.scope else "", "other_school": c.other_school,
        "status_before": status_label(c.status_before), "status_after": status_label(c.status_after),
        "due_on": _iso(c.due_on), "national_done_on": _iso(c.national_done_on),
        "provincial_done_on": _iso(c.provincial_done_on), "handled_by": _person(c.handled_by),
    } for c in changes]
    by_type = {t.label: n for t in ChangeType if (n := sum(1 for r in change_rows if r["type"] == t.value))}

    items = (Discrepancy.objects.filter(school=school, status=ItemStatus.OPEN).select_related("owner")
             .order_by("category", "id"))
    item_rows = [{
        "id": d.pk, "category": d.category, "category_label": d.get_category_display(), "name": d.name,
        "registry_no": mask_registry_no(d.registry_no), "row": d.row, "owner": _person(d.owner), "note": d.note,
        "since": timezone.localtime(d.created_at).date().isoformat(),
    } for d in items]
    by_category = {c.label: n for c in Category if (n := sum(1 for r in item_rows if r["category"] == c.value))}

    upload = RosterUpload.objects.filter(school=school).order_by("-uploaded_at", "-id").first()
    roster = None if upload is None else {
        "id": upload.pk, "filename": upload.filename, "uploaded_at": timezone.localtime(upload.uploaded_at).isoformat(),
        "rows": upload.rows, "counts": {Category(k).label if k in Category.values else k: v
                                        for k, v in (upload.counts or {}).items()},
        "new": upload.new_items, "resolved": upload.resolved_items, "still_open": upload.still_open_items,
    }

    graduates = (Graduate.objects.filter(county_id=school.county_id, matched_student__isnull=True,
                                         closed_on__isnull=True)
                 .select_related("township", "upload", "owner").order_by("primary_school", "name", "id"))
    graduate_rows = [{
        "id": g.pk, "name": g.name, "primary_school": g.primary_school,
        "township": g.township.name if g.township_id else "", "village": g.village,
        "year": g.upload.graduation_year, "result": g.get_result_display() if g.result else "",
        "owner": _person(g.owner),
    } for g in graduates]

    pending = {key: changes.filter(q).count() for key, (_, q) in PROCESSING_FILTERS.items() if key != "done"}
    return {
        "built_at": timezone.localtime().isoformat(timespec="seconds"),
        "term": {"name": term.name, "start": term.start.isoformat(), "end": term.end.isoformat()},
        "changes": change_rows,
        "discrepancies": item_rows,
        "roster": roster,
        "graduates": graduate_rows,
        "counts": {
            "changes": len(change_rows), "by_type": by_type,
            "national_pending": pending["national_pending"], "provincial_pending": pending["provincial_pending"],
            "discrepancies": len(item_rows), "by_category": by_category,
            "graduates": len(graduate_rows),
        },
    }


def is_signed(review: TermReview) -> bool:
    return bool(review.office_signed_at or review.principal_signed_at)


@transaction.atomic
def review_build(*, school: School, term: Term) -> TermReview:
    """The school's review of `term`, created when first asked for and refreshed until somebody
    signs it. Raises `CalendarMissing` when the deadline's year has no calendar."""
    if term.school_id != school.pk:
        raise ValidationError("该学期不属于这所学校")
    due_on = review_due(term)
    review, created = TermReview.objects.select_for_update().get_or_create(
        school=school, term=term, defaults={"county_id": school.county_id, "due_on": due_on})
    if created:
        audit_record(actor=None, action=Action.CREATE, obj=review, object_repr=f"{school.name} {term.name} 学期学籍梳理",
                     changes={"due_on": [None, due_on]})
    if is_signed(review):
        return review
    review.due_on = due_on  # the calendar may have been corrected since
    review.summary = build_summary(school, term)
    review.save(update_fields=["due_on", "summary"])
    return review


def can_sign(user, review: TermReview, as_role: str) -> bool:
    role = SIGNERS[as_role][0]
    return Membership.objects.filter(user=user, role=role, school_id=review.school_id).exists()


@transaction.atomic
def review_sign(*, actor, review: TermReview, as_role: str) -> TermReview:
    """办公室主任 or 校长 signs the review off; each once, and not the same person twice."""
    if as_role not in SIGNERS:
        raise ValidationError(f"没有这种签字身份：“{as_role}”（office 办公室主任，principal 校长）")
    role, title, by_field, at_field = SIGNERS[as_role]
    review = TermReview.objects.select_for_update().select_related("school", "term").get(pk=review.pk)
    if not (getattr(actor, "is_authenticated", False) and can_sign(actor, review, as_role)):
        raise ValidationError(f"只有本校{Role(role).label}的账号可以以{title}身份签字")
    if getattr(review, at_field):
        raise ValidationError(f"{title}已于 {timezone.localtime(getattr(review, at_field)):%Y-%m-%d %H:%M} 签字")
    other_by = "principal_signed_by_id" if as_role == "office" else "office_signed_by_id"
    if getattr(review, other_by) == actor.pk:
        raise ValidationError("同一人不能同时以办公室主任和校长的身份签字")
    now = timezone.now()
    setattr(review, by_field, actor)
    setattr(review, at_field, now)
    review.save(update_fields=[by_field, at_field])
    audit_record(actor=actor, action=Action.UPDATE, obj=review,
                 object_repr=f"{review.school.name} {review.term.name} 学期学籍梳理",
                 changes={by_field: [None, _person(actor)], at_field: [None, now]}, note=f"{title}签字")
    return review


def review_xlsx(review: TermReview) -> bytes:
    """The review as a workbook: 概况, 学籍异动, 人籍不一致待办, 小学毕业生未接续."""
    import xlsxwriter

    s = review.summary or {}
    counts = s.get("counts", {})
    buf = io.BytesIO()
    # Cell text is data, never a formula or link: a name typed as "=..." must not run in Excel.
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    head = wb.add_format({"bold": True, "bg_color": "#EEF2F6", "border": 1, "text_wrap": True, "valign": "vcenter"})
    cell = wb.add_format({"border": 1, "valign": "top", "text_wrap": True})
    title = wb.add_format({"bold": True, "font_size": 14})

    ws = wb.add_worksheet("概况")
    ws.write(0, 0, f"{review.school.name} {review.term.name} 学期学籍异动梳理", title)
    facts = [
        ("学校", review.school.name), ("学期", review.term.name),
        ("开学日期", review.term.start.isoformat()), ("梳理截止日期", review.due_on.isoformat()),
        ("本学期学籍异动", counts.get("changes", 0)),
        *((f"　其中{k}", v) for k, v in counts.get("by_type", {}).items()),
        ("国网未办结", counts.get("national_pending", 0)), ("省网未办结", counts.get("provincial_pending", 0)),
        ("人籍不一致待办（未销账）", counts.get("discrepancies", 0)),
        *((f"　其中{k}", v) for k, v in counts.get("by_category", {}).items()),
        ("小学毕业学籍未接续（全县未销账）", counts.get("graduates", 0)),
    ]
    roster = s.get("roster")
    if roster:
        facts += [("最近一次名册比对", f"{roster['uploaded_at'][:16].replace('T', ' ')} {roster['filename']}"),
                  ("　名册数据行", roster["rows"])]
        facts += [(f"　{k}", v) for k, v in roster["counts"].items()]
    else:
        facts.append(("最近一次名册比对", "尚未上传国网名册"))
    facts += [
        ("办公室主任签字", _signature(review.office_signed_by, review.office_signed_at)),
        ("校长签字", _signature(review.principal_signed_by, review.principal_signed_at)),
        ("梳理数据生成时间", (s.get("built_at") or "")[:19].replace("T", " ")),
    ]
    for r, (k, v) in enumerate(facts, start=2):
        ws.write(r, 0, k, head)
        ws.write(r, 1, v, cell)
    ws.set_column(0, 0, 30)
    ws.set_column(1, 1, 44)

    _sheet(wb, "学籍异动", head, cell,
           ["序号", "异动日期", "姓名", "班级", "异动类型", "原因", "转学范围", "对方学校", "原学籍状态", "新学籍状态",
            "办结期限", "国网办结", "省网办结", "经办人"],
           [[i, r["date"], r["student"], r["class"], r["type_label"], r["reason"], r["scope"], r["other_school"],
             r["status_before"], r["status_after"], r["due_on"] or "", r["national_done_on"] or "未办结",
             r["provincial_done_on"] or "未办结", r["handled_by"]] for i, r in enumerate(s.get("changes", []), 1)])
    _sheet(wb, "人籍不一致待办", head, cell,
           ["序号", "类别", "姓名", "全国学籍号", "名册行号", "负责人", "处理说明", "发现日期"],
           [[i, r["category_label"], r["name"], r["registry_no"], r["row"] or "", r["owner"], r["note"], r["since"]]
            for i, r in enumerate(s.get("discrepancies", []), 1)])
    _sheet(wb, "小学毕业生未接续", head, cell,
           ["序号", "姓名", "毕业小学", "毕业年份", "乡镇", "村（社区）", "核查结果", "负责人"],
           [[i, r["name"], r["primary_school"], r["year"], r["township"], r["village"], r["result"] or "未核查",
             r["owner"]] for i, r in enumerate(s.get("graduates", []), 1)])
    wb.close()
    return buf.getvalue()


def _signature(user, at) -> str:
    if not at:
        return "未签字"
    return f"{_person(user)} {timezone.localtime(at):%Y-%m-%d %H:%M}"


def _sheet(wb, name: str, head, cell, headers: list[str], rows: list[list]) -> None:
    ws = wb.add_worksheet(name)
    ws.write_row(0, 0, headers, head)
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row):
            if isinstance(value, str):
                ws.write_string(r, c, value, cell)
            else:
                ws.write(r, c, value, cell)
    widths = {"序号": 5, "姓名": 9, "原因": 28, "对方学校": 20, "毕业小学": 20, "处理说明": 28, "全国学籍号": 22}
    for c, h in enumerate(headers):
        ws.set_column(c, c, widths.get(h, 12))
    ws.freeze_panes(1, 0)
    if rows:
        ws.autofilter(0, 0, len(rows), len(headers) - 1)


__all__ = ["review_due", "review_reminder_on", "review_build", "review_sign", "review_xlsx", "current_term"]
