"""Benchmark of 人籍一致 at scale: a 100,000-row 国网 roster export (the 62 columns of domain.md:
40 of the student and 11 for each of two family members, identifiers as text) against a school of
about 100,000 students, with a few discrepancies of each kind planted. Prints the time of the bare
read (python-calamine), of `read_table`, of reading and validating (`read_roster`), of the
comparison (`reconcile_rows`) and of the whole `reconcile` (read + validation + comparison +
recording the work items), then of a second upload (the diff), and the peak memory.

Runs in a scratch test database of the configured DATABASE_URL.

    .venv/bin/python scripts/bench_reconcile.py [--rows 100000] [--profile]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python scripts/bench_reconcile.py
"""

import argparse
import datetime
import functools
import os
import random
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "baoxue.settings")
os.environ.setdefault("SECRET_KEY", "benchmark-only")

PER_CLASS = 50


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--profile", action="store_true", help="cProfile one more whole upload and print the top functions")
    parser.add_argument("--tracemalloc", action="store_true", help="also measure the Python heap's peak (slower)")
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    db_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            run(args, db_name, Path(tmp))
    finally:
        connection.creation.destroy_test_db(db_name, verbosity=0)


def rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(label: str, fn, results: dict):
    t0 = time.perf_counter()
    value = fn()
    seconds = time.perf_counter() - t0
    results[label] = seconds
    print(f"  {seconds:7.2f} 秒  进程峰值内存 {rss_mb():6.0f} MB  {label}")
    return value


def build(args) -> tuple:
    from baoxue.lib.idcard import make_resident_id
    from baoxue.org.models import County, Grade, School, SchoolClass, Student, Township

    county = County.objects.create(code="410999", name="基准县")
    township = Township.objects.create(county=county, name="城关镇")
    school = School.objects.create(code="4109990001", name="基准中学", county=county, township=township)
    grades = [Grade.objects.create(school=school, name=n, order=o) for n, o in (("七年级", 7), ("八年级", 8), ("九年级", 9))]
    per_grade = -(-args.rows // (3 * PER_CLASS))
    classes = SchoolClass.objects.bulk_create([
        SchoolClass(school=school, grade=g, name=f"({c + 1})班") for g in grades for c in range(per_grade)])
    students = []
    for seq in range(args.rows):
        cls = classes[seq // PER_CLASS]
        birth = datetime.date(2011 + (9 - cls.grade.order), 1, 1) + datetime.timedelta(days=seq % 360)
        sex = "M" if seq % 2 else "F"
        # The region digits carry seq // 100 so that every number is unique.
        number = make_resident_id(f"4{seq // 100:05d}", birth, seq % 100, sex)
        students.append(Student(county=county, school=school, school_class=cls, name=f"学生{seq}", sex=sex,
                                birth_date=birth, id_number=number, registry_no="G" + number,
                                hukou_address="河南省基准县城关镇东关社区", address="河南省基准县城关镇东关社区"))
    Student.objects.bulk_create(students, batch_size=2000)
    return school, students


def write_roster(path: Path, school, students, rng: random.Random) -> dict:
    """The export, with planted discrepancies: 0.5% each left out, renamed, moved to another class
    and registered but not students; 10 duplicate pairs; 10 bad check digits, 10 numeric IDs."""
    import xlsxwriter

    from baoxue.lib.idcard import make_resident_id
    from baoxue.demo.registry import ROSTER_COLUMNS, TEXT_COLUMNS

    n = len(students)
    picks = rng.sample(range(n), k=n // 200 * 3 + 40)
    share = n // 200
    left_out = set(picks[:share])
    renamed = set(picks[share:2 * share])
    moved = set(picks[2 * share:3 * share])
    doubled, bad_digit, numeric = set(picks[-40:-20]), set(picks[-20:-10]), set(picks[-10:])
    index = {c: i for i, c in enumerate(ROSTER_COLUMNS)}
    text_at = [c in TEXT_COLUMNS for c in ROSTER_COLUMNS]

    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False,
                                         "strings_to_formulas": False, "strings_to_urls": False})
    ws = wb.add_worksheet("学生信息")
    text = wb.add_format({"num_format": "@"})
    ws.write_row(0, 0, ROSTER_COLUMNS)
    constant = {
        "学校标识码": school.code, "国籍/地区": "中国", "身份证件类型": "居民身份证", "港澳台侨外": "否", "健康状况": "健康或良好",
        "户口所在地": "河南省基准县城关镇东关社区", "户口性质": "非农业户口", "出生地": "河南省基准县", "籍贯": "河南省基准县",
        "民族": "汉族", "入学方式": "就近入学", "就读方式": "走读", "学生来源": "正常入学", "现住址": "河南省基准县城关镇东关社区",
        "通信地址": "河南省基准县城关镇东关社区", "家庭地址": "河南省基准县城关镇东关社区", "是否独生子女": "否",
        "是否留守儿童": "非", "是否进城务工人员随迁子女": "否", "是否孤儿": "否", "是否烈士或优抚子女": "否",
        "是否需要申请资助": "否", "是否享受一补": "否", "随班就读": "否", "残疾类型": "无残疾", "上下学距离": "1.5",
        "上下学方式": "步行", "是否需要乘坐校车": "否", "家庭成员1关系": "父亲", "家庭成员1是否监护人": "是",
        "家庭成员1身份证件类型": "居民身份证", "家庭成员1民族": "汉族", "家庭成员1工作单位": "务农",
        "家庭成员2关系": "母亲", "家庭成员2是否监护人": "是", "家庭成员2身份证件类型": "居民身份证", "家庭成员2民族": "汉族",
    }
    template = [constant.get(c, "") for c in ROSTER_COLUMNS]
    grade_of = {s.school_class_id: s.school_class.grade.name for s in students[::PER_CLASS]}
    class_of = {s.school_class_id: s.school_class.name for s in students[::PER_CLASS]}
    r = 0

    def put(row):
        nonlocal r
        r += 1
        for c, value in enumerate(row):
            if isinstance(value, float):
                ws.write_number(r, c, value)
            elif value != "":
                ws.write_string(r, c, value, text) if text_at[c] else ws.write_string(r, c, value)

    for i, s in enumerate(students):
        if i in left_out:
            continue
        row = list(template)
        row[index["姓名"]] = s.name + ("乙" if i in renamed else "")
        row[index["性别"]] = "男" if s.sex == "M" else "女"
        row[index["出生日期"]] = s.birth_date.isoformat()
        row[index["身份证件号"]] = s.id_number
        row[index["全国学籍号"]] = s.registry_no
        row[index["班内学号"]] = str(i % PER_CLASS + 1)
        row[index["年级"]] = grade_of[s.school_class_id]
        row[index["班级"]] = "(99)班" if i in moved else class_of[s.school_class_id]
        row[index["入学年月"]] = "2024-09"
        row[index["联系电话"]] = f"138{i:08d}"
        row[index["家庭成员1姓名"]] = f"家长{i}"
        row[index["家庭成员1联系电话"]] = f"139{i:08d}"
        row[index["家庭成员1身份证件号"]] = make_resident_id("410999", datetime.date(1985, 1, 1), i % 100, "M")
        row[index["家庭成员2姓名"]] = f"母亲{i}"
        if i in bad_digit:
            last = s.id_number[-1]
            row[index["身份证件号"]] = s.id_number[:-1] + ("1" if last != "1" else "7")
        if i in numeric:
            row[index["身份证件号"]] = float(s.id_number[:17])
        put(row)
        if i in doubled:
            put(row)
    for k in range(share):  # registered here, not students
        number = make_resident_id(f"5{k // 100:05d}", datetime.date(2012, 5, 5), k % 100, "M")
        row = list(template)
        row[index["姓名"]], row[index["性别"]], row[index["出生日期"]] = f"外校{k}", "男", "2012-05-05"
        row[index["身份证件号"]], row[index["全国学籍号"]] = number, "G" + number
        row[index["年级"]], row[index["班级"]], row[index["班内学号"]] = "八年级", "(1)班", "51"
        put(row)
    wb.close()
    return {"rows": r, "left_out": len(left_out), "renamed": len(renamed), "moved": len(moved),
            "strangers": share, "duplicated": len(doubled), "bad_digit": len(bad_digit), "numeric": len(numeric)}


def run(args, db_name: str, tmp: Path) -> None:
    from django.db import connection
    from python_calamine import CalamineWorkbook

    from baoxue.lib import sheets
    from baoxue.registry import reconcile as rc
    from baoxue.demo.registry import ROSTER_COLUMNS
    from baoxue.registry.models import Discrepancy

    rng = random.Random(args.seed)
    print(f"数据库：{connection.vendor}（{db_name}）")
    t0 = time.perf_counter()
    school, students = build(args)
    print(f"建学生 {len(students)} 名：{time.perf_counter() - t0:.1f} 秒")
    path = tmp / "国网学籍名册-基准.xlsx"
    t0 = time.perf_counter()
    planted = write_roster(path, school, students, rng)
    size = path.stat().st_size
    print(f"写名册（xlsxwriter constant_memory）{planted['rows']} 行 × {len(ROSTER_COLUMNS)} 列，"
          f"{size / 1024 / 1024:.1f} MB：{time.perf_counter() - t0:.1f} 秒")
    print("  埋入：" + "，".join(f"{k} {v}" for k, v in planted.items() if k != "rows"))
    del students
    if size > sheets.DEFAULT_MAX_BYTES:
        # read_roster honours settings.IMPORT_MAX_BYTES (default 40 MB); a bigger file is let through here.
        print(f"  注意：文件超过默认上限 {sheets.DEFAULT_MAX_BYTES // 1024 // 1024} MB，基准中临时放宽")
        rc.read_table = functools.partial(sheets.read_table, max_bytes=size + 1)

    print(f"\n计时（进程起点峰值内存 {rss_mb():.0f} MB）：")
    results: dict[str, float] = {}
    timed("裸读（calamine to_python）", lambda: CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
          .to_python(skip_empty_area=False), results)
    timed("read_table", lambda: sheets.read_table(str(path), path.name, max_bytes=size + 1), results)
    roster = timed("read_roster（读取 + 逐行校验）", lambda: rc.read_roster(str(path), path.name, school), results)
    timed("reconcile_rows（比对）", lambda: rc.reconcile_rows(school, roster, path.name), results)
    roster = None  # let it go before the whole run
    result = timed("reconcile 全程（读取+校验+比对+记录待办）", lambda: rc.reconcile(
        actor=None, source=str(path), filename=path.name, school=school), results)
    print("  各类：" + "，".join(f"{k} {v}" for k, v in result.counts.items())
          + f"；待办新发现 {result.new_items}，库中待办 {Discrepancy.objects.count()}")
    del result
    again = timed("再次上传同一名册（仍未解决的差异）", lambda: rc.reconcile(
        actor=None, source=str(path), filename=path.name, school=school), results)
    print(f"  新发现 {again.new_items}，已解决 {again.resolved_items}，仍未解决 {again.still_open_items}")

    bare = results["裸读（calamine to_python）"]
    whole = results["reconcile 全程（读取+校验+比对+记录待办）"]
    print(f"\n全程 / 裸读 = {whole / bare:.1f} 倍；read_roster / 裸读 = {results['read_roster（读取 + 逐行校验）'] / bare:.1f} 倍")
    print(f"进程峰值内存 {rss_mb():.0f} MB")

    if args.tracemalloc:
        tracemalloc.start()
        rc.reconcile(actor=None, source=str(path), filename=path.name, school=school, dry_run=True)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"Python 堆峰值（tracemalloc，一次 reconcile dry run）：{peak / 1024 / 1024:.0f} MB")
    if args.profile:
        import cProfile
        import pstats

        profile = cProfile.Profile()
        profile.runcall(rc.reconcile, actor=None, source=str(path), filename=path.name, school=school)
        pstats.Stats(profile).sort_stats("cumulative").print_stats(25)
        pstats.Stats(profile).sort_stats("tottime").print_stats(20)


if __name__ == "__main__":
    main()
