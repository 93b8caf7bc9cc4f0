"""The demo's 休学 applications, one in each step a school meets, built through the services:

- in school 1, 七(1)班 (teacher71): a draft missing the bills and the signed forms;
- in school 1: one submitted in the next batch (the bureau, `county`, can approve it), and one
  approved with its 国网 steps to do (`registrar`);
- the students the county builder put on 休学: their suspensions as records in effect, one ending
  within the reminder window and one that ended yesterday without 复学 (back on the roll call
  with a banner).
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile

from baoxue.calendar import workdays
from baoxue.org.models import RegistryStatus, School, Student
from baoxue.registry import suspensions
from baoxue.registry.models import Application, ChangeType, Material, RegistryChange

User = get_user_model()


@dataclass
class SuspensionDemo:
    lines: list[str] = field(default_factory=list)


def _paper(name: str) -> SimpleUploadedFile:
    """A one-page PDF standing for a scanned paper."""
    text = f"Baoxue demo: {name}".encode("ascii", "replace")
    stream = b"BT /F1 14 Tf 72 760 Td (" + text + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = b"%PDF-1.4\n", []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return SimpleUploadedFile(f"{name}.pdf", out, content_type="application/pdf")


def _rest_for(app: Application, today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """A rest long enough for the one-third rule: most of the last term that has ended (its
    calendar is known; the current term may reach into a year not yet published)."""
    term = (app.school.terms.filter(end__lt=today).order_by("-end").first()
            or app.school.terms.filter(start__lte=today).order_by("-start").first())
    return term.start + datetime.timedelta(days=30), term.end


def _fill(app: Application, actor, today: datetime.date, *, illness: str, complete: bool) -> Application:
    start, end = _rest_for(app, today)
    suspensions.application_update(actor=actor, app=app, illness=illness, hospital="示范县人民医院",
                                   hospital_level="county", diagnosed_on=start - datetime.timedelta(days=2),
                                   rest_from=start, rest_to=end, start_on=today,
                                   detail="家长申请：遵医嘱住院治疗，无法坚持上学")
    for material, name in ((Material.APPLICATION, "application"), (Material.DIAGNOSIS, "diagnosis"),
                           (Material.REST, "hospital-stay")):
        suspensions.application_file_add(actor=actor, app=app, material=material, upload=_paper(name))
    if complete:
        suspensions.application_bills_set(actor=actor, app=app, items=[("住院费", Decimal("3260.50")),
                                                                       ("检查费", Decimal("846.00")),
                                                                       ("药费", Decimal("1218.30"))])
        for material, name in ((Material.BILLS, "bills"), (Material.FORM_SCHOOL, "form-school"),
                               (Material.FORM_BUREAU, "form-bureau")):
            suspensions.application_file_add(actor=actor, app=app, material=material, upload=_paper(name))
    else:
        suspensions.application_bills_set(actor=actor, app=app, items=[("门诊费", Decimal("386.00"))])
    return app


def plant_suspensions(today: datetime.date) -> SuspensionDemo:
    demo = SuspensionDemo()
    school = School.objects.order_by("code").first()
    teacher = User.objects.get(username="teacher71")
    clerk = User.objects.get(username="registrar")
    bureau = User.objects.get(username="county")
    in_class = list(Student.objects.filter(school_class__head_teacher=teacher, status=RegistryStatus.IN_SCHOOL)
                    .order_by("-id")[:1])
    others = list(Student.objects.filter(school=school, status=RegistryStatus.IN_SCHOOL)
                  .exclude(school_class__head_teacher=teacher).order_by("-id")[:2])
    if not in_class or len(others) < 2:
        return demo

    draft = suspensions.application_start(actor=teacher, student=in_class[0], illness="")
    _fill(draft, teacher, today, illness="肺结核", complete=False)
    demo.lines.append(f"{in_class[0].name}（{in_class[0].class_label}）：休学申请填写中，缺药费和签字盖章的申请表")

    submitted = suspensions.application_start(actor=clerk, student=others[0], illness="")
    _fill(submitted, clerk, today, illness="急性淋巴细胞白血病", complete=True)
    submitted = suspensions.application_submit(actor=clerk, app=submitted, today=today)
    demo.lines.append(f"{others[0].name}：已提交，随 {submitted.batch_day} 批次报教体局（county 可审批）")

    approved = suspensions.application_start(actor=clerk, student=others[1], illness="")
    _fill(approved, clerk, today, illness="骨肉瘤", complete=True)
    approved = suspensions.application_submit(actor=clerk, app=approved, today=today)
    suspensions.application_decide(actor=bureau, app=approved, approve=True, comment="同意休学一年", decided_on=today)
    demo.lines.append(f"{others[1].name}：已批准，待学籍管理员在国网办理三步")

    # The students already on 休学: their suspensions as records (approved in earlier months).
    held = list(Student.objects.filter(status=RegistryStatus.SUSPENDED).select_related("school").order_by("id"))
    for n, student in enumerate(held):
        if n == 0:
            start = today - datetime.timedelta(days=345)  # ends within the 30-day reminder
        elif n == 1:
            start = today.replace(year=today.year - 1)  # ended yesterday
        else:
            start = student.status_since or today
        _legacy(student, start, clerk)
    ended = suspensions.suspensions_daily(today)
    demo.lines.extend(f"注意：{w}" for w in ended["warnings"])
    if held:
        demo.lines.append(f"休学中 {len(held)} 人（其中 1 人即将期满），{ended['expired']} 人昨日期满未复学、已回到班级考勤")
    return demo


def _legacy(student: Student, start: datetime.date, clerk) -> None:
    """A suspension approved and done before the demo's weeks, as the records would stand."""
    ends = suspensions.suspension_end(start, 12)
    batch = workdays.on_or_next_working_day(start - datetime.timedelta(days=5))
    student.status_since = start
    student.save(update_fields=["status_since"])
    change = RegistryChange.objects.create(
        county_id=student.county_id, school_id=student.school_id, student=student, change_type=ChangeType.SUSPEND,
        date=start, reason="因病休学：重症肺炎", handled_by=clerk, status_before=RegistryStatus.IN_SCHOOL,
        status_after=RegistryStatus.SUSPENDED, national_done_on=start, provincial_done_on=start)
    Application.objects.create(
        county_id=student.county_id, school_id=student.school_id, student=student, kind=Application.Kind.SUSPEND,
        state=Application.State.EFFECTIVE, illness="重症肺炎", hospital="示范市中心医院", hospital_level="city",
        diagnosed_on=start - datetime.timedelta(days=20), start_on=start, ends_on=ends, submitted_on=batch,
        batch_day=batch, decided_on=batch, decision_comment="同意", national_form_on=start, national_proof_on=start,
        national_reason_on=start, change=change, created_by=clerk)
