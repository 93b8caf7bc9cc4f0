"""`baoxue registry-change STUDENT TYPE --date YYYY-MM-DD --reason TEXT [--scope in_province|cross_province]
[--other-school NAME]`: record one 学籍异动 from the command line (the same service as the web form).

STUDENT is the 全国学籍号 or the ID number; TYPE is one of the `ChangeType` values
(transfer_in, transfer_out, suspend, resume, dropout, death, abroad, other_leave, repeat, skip, defer).
休学 (suspend) and 延缓入学 (defer) are refused here: they come only from an approved application
(`baoxue.registry.suspensions`), and the refusal says where to apply.
"""

import datetime

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from baoxue.org.models import Student
from baoxue.registry.changes import registry_change_record, status_label
from baoxue.registry.models import ChangeType


class Command(BaseCommand):
    help = "学籍异动：为一名学生登记一条异动（学籍状态随之改变）"

    def add_arguments(self, parser):
        parser.add_argument("student", help="全国学籍号或身份证件号")
        parser.add_argument("type", help="异动类型：" + "、".join(f"{t.value}（{t.label}）" for t in ChangeType))
        parser.add_argument("--date", required=True, help="异动日期，如 2025-10-13")
        parser.add_argument("--reason", required=True)
        parser.add_argument("--scope", default="", help="转学范围：in_province（省内）或 cross_province（跨省）")
        parser.add_argument("--other-school", default="", help="对方学校（转出填转入学校）")

    def handle(self, *args, student, type, date, reason, scope, other_school, **opts):
        key = student.strip().upper()
        found = list(Student.objects.filter(Q(registry_no=key) | Q(id_number=key))[:2])
        if len(found) != 1:
            raise CommandError(f"没有找到全国学籍号或身份证件号为 {key} 的学生" if not found else f"{key} 对应多名学生")
        try:
            day = datetime.date.fromisoformat(date)
        except ValueError:
            raise CommandError(f"日期格式应为 YYYY-MM-DD，收到“{date}”")
        try:
            change = registry_change_record(actor=None, student=found[0], change_type=type, date=day, reason=reason,
                                            scope=scope, other_school=other_school)
        except ValidationError as e:
            raise CommandError("；".join(e.messages))
        line = (f"已登记 {found[0].name} {change.get_change_type_display()} {change.date.isoformat()}："
                f"{status_label(change.status_before)} → {status_label(change.status_after)}")
        if change.due_on:
            line += f"，办结期限 {change.due_on.isoformat()}"
        self.stdout.write(line)
