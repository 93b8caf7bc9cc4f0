"""`baoxue import-staff FILE [--dry-run]`: staff accounts and roles from a sheet."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from baoxue.org.staff import import_staff


class Command(BaseCommand):
    help = "导入教职工账号和角色（列：用户名、姓名、角色、学校标识码、乡镇、区县代码、年级、班级、初始密码）"

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--dry-run", action="store_true", help="只检查，不写入")

    def handle(self, *args, file, dry_run, **opts):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"找不到文件：{file}")
        with path.open("rb") as f:
            report = import_staff(actor=None, actor_label="命令行导入", source=f, filename=path.name, dry_run=dry_run)
        for p in report.problems:
            self.stdout.write(f"  {p}")
        if report.problems:
            raise CommandError(f"有 {len(report.problems)} 个问题，没有写入任何数据。")
        if dry_run:
            self.stdout.write(f"检查通过：{len(report.rows)} 行（--dry-run，未写入）。")
            return
        self.stdout.write(self.style.SUCCESS(f"已导入：新账号 {len(report.new_accounts)} 个，新角色 {report.memberships_added} 个。"))
        if report.new_accounts:
            self.stdout.write("新账号的初始密码（请转交本人；首次登录时系统会要求修改）：")
            for username, name, password in report.new_accounts:
                self.stdout.write(f"  {username}\t{name}\t{password}")
