"""`baoxue school add|list`: schools (and their townships and counties when new)."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from baoxue.org.models import School, Stage
from baoxue.org.services import school_add

STAGES = {label: value for value, label in Stage.choices} | {value: value for value, _ in Stage.choices}


class Command(BaseCommand):
    help = "管理学校：add 新建学校（乡镇、区县不存在时一并新建），list 列出学校"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="新建学校")
        add.add_argument("--code", required=True, help="10位学校标识码")
        add.add_argument("--name", required=True, help="学校名称")
        add.add_argument("--township", required=True, help="所在乡镇/街道名称")
        add.add_argument("--county-code", help="6位行政区划代码（系统中只有一个区县时可省略）")
        add.add_argument("--county", help="区县名称")
        add.add_argument("--stage", default="初中", help="学段：小学、初中、九年一贯制（默认初中）")
        sub.add_parser("list", help="列出学校")

    def handle(self, *args, action, **opts):
        if action == "list":
            for s in School.objects.select_related("county", "township"):
                self.stdout.write(f"{s.code}\t{s.name}\t{s.get_stage_display()}\t{s.county.name}\t{s.township.name}")
            return
        stage = STAGES.get(opts["stage"])
        if stage is None:
            raise CommandError(f"学段“{opts['stage']}”无法识别：请填 小学、初中 或 九年一贯制")
        try:
            school = school_add(actor=None, code=opts["code"], name=opts["name"], township=opts["township"],
                                county_code=opts["county_code"], county=opts["county"], stage=stage)
        except ValidationError as e:
            raise CommandError("；".join(m for msgs in e.message_dict.values() for m in msgs))
        self.stdout.write(f"已新建学校：{school.code} {school.name}（{school.get_stage_display()}，"
                          f"{school.county.name}{school.township.name}）")
