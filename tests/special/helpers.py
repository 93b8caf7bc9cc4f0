"""Helpers of the special-education tests: uploads and a child taught at home."""

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile

from baoxue.special import services

D = dt.date


def pdf(name="评估意见.pdf"):
    return SimpleUploadedFile(name, b"%PDF-1.4 scan", content_type="application/pdf")


def jpg(name="签字.jpg"):
    return SimpleUploadedFile(name, b"\xff\xd8\xff\xe0 photo", content_type="image/jpeg")


def exe(name="签字.jpg"):
    return SimpleUploadedFile(name, b"MZ\x90\x00 program", content_type="image/jpeg")


def home_teaching(users, child, *, decided_on=D(2025, 8, 25), **plan):
    """送教上门 decided for 张三, with a plan for 2025-2026 taught by 周老师."""
    services.placement_decide(actor=users["office"], student=child, decided_on=decided_on,
                              placement="home_teaching", basis="县残疾人教育专家委员会评估意见", today=D(2025, 9, 1))
    values = dict(school_year="2025-2026", start_on=D(2025, 9, 1), end_on=D(2026, 7, 3), visits_per_week=2,
                  hours_per_visit=2, teachers=[users["teacher"]])
    values.update(plan)
    return services.plan_save(actor=users["office"], student=child, **values)


def visit(users, plan, day, hours=2, *, signed=True, **extra):
    return services.visit_record(actor=users["teacher"], plan=plan, date=day, hours=hours, content="生活自理训练",
                                 teachers=[users["teacher"]], signature=jpg() if signed else None,
                                 today=D(2026, 12, 1), **extra)
