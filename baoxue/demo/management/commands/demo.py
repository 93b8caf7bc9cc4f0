"""`baoxue demo [--seed N] [--if-empty] [--logins [--all]]`: build the demo county (示范县), with
about five weeks of roll calls and the 13510 cases they lead to, and print its logins. `make run`
shows this output, so the logins table is its last part."""

import time
import unicodedata

from django.core.management.base import BaseCommand, CommandError

from baoxue.demo.attendance import AttendanceDemo
from baoxue.demo.county import (
    DEMO_PASSWORD,
    DemoError,
    DemoResult,
    Login,
    build_demo,
    demo_logins,
    is_listed_by_default,
)
from baoxue.org.models import School


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def logins_table(logins: list[Login], *, show_all: bool = False) -> list[str]:
    """The logins as aligned lines; without show_all, head teachers other than teacher71 and
    teacher72 are summed up in one line."""
    shown = logins if show_all else [login for login in logins if is_listed_by_default(login)]
    header = Login("用户名", "密码", "角色", "范围")
    widths = [max(_width(row[i]) for row in [header, *shown]) for i in range(3)]
    lines = [f"演示账号（密码均为 {DEMO_PASSWORD}）："]
    for row in [header, *shown]:
        lines.append("  " + "  ".join(_pad(row[i], widths[i]) for i in range(3)) + "  " + row[3])
    hidden = [login for login in logins if login not in shown]
    if hidden:
        lines.append(f"  另有 {len(hidden)} 个班主任账号，用户名为 t<学校序号>_<年级><班号>，"
                     f"例如 {hidden[0].username}（{hidden[0].scope}）；"
                     f"全部列出：baoxue demo --logins --all")
    return lines


def summary(result: DemoResult, seconds: float) -> list[str]:
    c = result.counts
    students = c["学生"]
    lines = [
        f"已生成演示数据（种子 {result.seed}，基准日 {result.today.isoformat()}，用时 {seconds:.1f} 秒）",
        f"  区县：{result.county}，乡镇 {c['乡镇']} 个",
        f"  学校 {c['学校']} 所：",
    ]
    for code, name, stage, township, classes, count in result.schools:
        lines.append(f"    {code}  {name}（{township}，{stage}）：{classes} 个班，{count} 名学生")
    lines += [
        f"  学期：{'、'.join(result.terms)}（每校 {len(result.terms)} 个），当前学期 {result.current_term}；"
        f"各校已设本学期控辍保学工作领导小组",
        f"  学生 {students} 名，家庭成员 {c['家庭成员']} 名，重点群体记录 {c['重点群体记录']} 条（含已结束的历史记录）",
        "  当前重点群体：" + "，".join(
            f"{label} {n}（{n / students:.1%}）" for label, n in result.key_groups.items()),
        f"  账号 {c['账号']} 个（每个班都有班主任），角色 {c['角色']} 条，帮扶关系 {c['帮扶关系']} 条",
    ]
    lines += attendance_summary(result.attendance)
    lines.append("")
    return lines


def attendance_summary(a: AttendanceDemo) -> list[str]:
    """Roll calls and 13510 cases: counts by stage, open and closed."""
    lines = []
    if a.first_day:
        lines.append(
            f"  点名：{a.first_day.isoformat()} 至 {a.last_day.isoformat()} 共 {a.school_days} 个在校日，"
            f"每班每天一次，共 {a.roll_calls} 次；考勤记录 {a.record_count} 条（"
            + "，".join(f"{label} {n}" for label, n in a.records.items()) + f"），请假 {a.leaves} 条")
        for missing in a.missing_roll_calls:
            lines.append(f"  缺点名：{missing}（未点名，办公室的缺点名名单可见）")
        stages = "；".join(f"{label} 未销账 {opened}、已销账 {closed}" for label, (opened, closed) in a.stages.items())
        lines.append(f"  13510 个案 {a.cases} 个（每日预警任务已运行至 {a.last_day.isoformat()}）：{stages}")
        outcomes = "，".join(f"{label} {n}" for label, n in a.outcomes.items()) or "无"
        lines.append(f"    销账结果：{outcomes}；劝返不足 {a.insufficient} 个，未完成且已到期的待办 {a.overdue_tasks} 条")
        lines.append(f"    联系家长记录 {a.contacts} 条，家访记录 {a.visits} 条，劝返责任人 {a.persuaders} 名，"
                     f"劝返记录 {a.attempts} 条；一生一表 {a.forms} 份，辍学报告 {a.reports} 份（乡镇政府、县教体局）")
    for warning in a.warnings:
        lines.append(f"  注意：{warning}")
    return lines


class Command(BaseCommand):
    help = ("生成演示数据（示范县：4 所学校、约 1500 名学生、各角色演示账号、约五周的点名和 13510 个案），"
            "并列出演示账号")

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=2025, help="随机种子（默认 2025；同一种子生成相同数据）")
        parser.add_argument("--if-empty", action="store_true",
                            help="已有学校时什么也不做（供 make run 使用）")
        parser.add_argument("--logins", action="store_true", help="只列出已有的演示账号，不生成数据")
        parser.add_argument("--all", action="store_true", help="列出全部演示账号（包括每个班的班主任）")
        parser.add_argument("--no-logins", action="store_true",
                            help="生成后不列账号（make run 在启动前统一列出网址和账号）")

    def handle(self, *args, seed, if_empty, logins, all, no_logins=False, **opts):
        if logins:
            self._print_logins(show_all=all)
            return
        schools = School.objects.count()
        if schools and if_empty:
            self.stdout.write(f"数据库中已有 {schools} 所学校，不生成演示数据（--if-empty）。")
            if demo_logins() and not no_logins:
                self._print_logins(show_all=all)
            return
        if schools:
            raise CommandError(
                f"数据库中已有 {schools} 所学校，拒绝生成演示数据：演示数据只能生成在没有学校的数据库中。"
                "如确需重建，请先清空数据库（baoxue flush），或加 --if-empty 跳过。"
            )
        started = time.monotonic()
        try:
            result = build_demo(seed=seed)
        except DemoError as e:
            raise CommandError(str(e))
        seconds = time.monotonic() - started
        self.stdout.write("\n".join(summary(result, seconds)))
        if result.suspensions and result.suspensions.lines:
            self.stdout.write("  休学申请：\n" + "\n".join(f"    {line}" for line in result.suspensions.lines) + "\n")
        if result.reports:
            self.stdout.write("  学校月报告：\n" + "\n".join(f"    {line}" for line in result.reports) + "\n")
        self.stdout.write("  人籍一致演示文件（用法见 README“人籍一致：演示文件”）：\n" + "\n".join(f"    {p}" for p in result.demo_files.values()) + "\n")
        if not no_logins:
            self.stdout.write("\n".join(logins_table(result.logins, show_all=all)))

    def _print_logins(self, *, show_all: bool) -> None:
        found = demo_logins()
        if not found:
            self.stdout.write(f"没有找到演示账号（密码仍为 {DEMO_PASSWORD} 的账号）。生成演示数据：baoxue demo")
            return
        self.stdout.write("\n".join(logins_table(found, show_all=show_all)))
