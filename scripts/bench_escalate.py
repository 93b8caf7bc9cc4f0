"""Benchmark of the 13510 daily job at county scale: 60 schools, 60,000 students, a term of
roll calls. Prints how long data building, `escalate --through` over the whole term and one
day's `escalate` take. Runs in a scratch test database of the configured DATABASE_URL.

    .venv/bin/python scripts/bench_escalate.py [--schools 60] [--students-per-school 1000]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python scripts/bench_escalate.py
"""

import argparse
import datetime
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "baoxue.settings")
os.environ.setdefault("SECRET_KEY", "benchmark-only")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--schools", type=int, default=60)
    parser.add_argument("--students-per-school", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    db_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        run(args, db_name)
    finally:
        connection.creation.destroy_test_db(db_name, verbosity=0)


def run(args, db_name: str) -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection

    from baoxue.attendance.models import AttendanceRecord, RollCall
    from baoxue.calendar import workdays
    from baoxue.cases.escalation import escalate, evaluate_day
    from baoxue.cases.models import Case, Task
    from baoxue.lib.idcard import make_resident_id
    from baoxue.org.models import County, Grade, School, SchoolClass, Student, Term, Township

    rng = random.Random(args.seed)
    t0 = time.perf_counter()
    county = County.objects.create(code="410999", name="基准县")
    townships = [Township.objects.create(county=county, name=f"第{i + 1}镇") for i in range(10)]
    start, end = datetime.date(2025, 9, 1), datetime.date(2026, 1, 23)
    User = get_user_model()
    schools = School.objects.bulk_create([
        School(code=f"41099{i:05d}", name=f"第{i + 1}中学", county=county, township=townships[i % 10]) for i in range(args.schools)
    ])
    schools = list(School.objects.order_by("code"))
    Term.objects.bulk_create([Term(school=s, name="2025-2026-1", start=start, end=end) for s in schools])
    grades = Grade.objects.bulk_create([Grade(school=s, name=n, order=o) for s in schools for n, o in (("七年级", 7), ("八年级", 8), ("九年级", 9))])
    per_class = 42
    classes_per_grade = max(1, round(args.students_per_school / (3 * per_class)))
    teachers = User.objects.bulk_create([User(username=f"t{i}") for i in range(len(grades) * classes_per_grade)])
    classes = SchoolClass.objects.bulk_create([
        SchoolClass(school_id=g.school_id, grade=g, name=f"({c + 1})班", head_teacher=teachers[gi * classes_per_grade + c])
        for gi, g in enumerate(grades) for c in range(classes_per_grade)
    ])
    students = []
    seq = 0
    for cls in classes:
        for _ in range(per_class):
            seq += 1
            birth = datetime.date(2012, 1, 1) + datetime.timedelta(days=seq % 3000)
            # The region digits carry seq // 100 so that every number is unique.
            number = make_resident_id(f"4{seq // 100:05d}", birth, seq % 100, "M" if seq % 2 else "F")
            students.append(Student(county=county, school_id=cls.school_id, school_class=cls, name=f"学生{seq}",
                                    sex="M" if seq % 2 else "F", birth_date=birth, id_number=number, registry_no="G" + number,
                                    residence_township=townships[seq % 10]))
    Student.objects.bulk_create(students, batch_size=2000)
    students = list(Student.objects.values_list("pk", "school_id", "school_class_id"))
    built_org = time.perf_counter() - t0

    t0 = time.perf_counter()
    days = workdays.school_days(schools[0], start, end)
    rollcalls, records = [], []
    chronic = set(rng.sample([s[0] for s in students], k=len(students) // 300))  # long runs → cases of every stage
    streak_start = {sid: rng.randrange(len(days) - 25) for sid in chronic}
    streak_length = {sid: rng.choice((2, 4, 8, 20)) for sid in chronic}
    for di, day in enumerate(days):
        for cls in classes:
            rollcalls.append(RollCall(county=county, school_id=cls.school_id, school_class=cls, date=day))
        for sid, school_id, _ in students:
            absent = False
            mark = rng.choice(("truant", "truant", "unknown", "sick"))
            if sid in chronic and streak_start[sid] <= di < streak_start[sid] + streak_length[sid]:
                absent, mark = True, rng.choice(("truant", "unknown"))
            elif rng.random() < 0.006:
                absent = True
            if absent:
                records.append(AttendanceRecord(county=county, school_id=school_id, student_id=sid, date=day, mark=mark))
    RollCall.objects.bulk_create(rollcalls, batch_size=5000)
    AttendanceRecord.objects.bulk_create(records, batch_size=5000)
    built_attendance = time.perf_counter() - t0

    print(f"数据库：{connection.vendor}（{db_name}）")
    print(f"学校 {len(schools)} 所，班级 {len(classes)} 个，学生 {len(students)} 名，在校日 {len(days)} 天")
    print(f"点名 {len(rollcalls)} 次，缺勤记录 {len(records)} 条")
    print(f"建数据：组织与学生 {built_org:.1f} 秒，一学期考勤 {built_attendance:.1f} 秒")

    # The back-fill stops the day before the last, so that the daily job is timed on a new day.
    last, before_last = days[-1], days[-2]
    t0 = time.perf_counter()
    totals = escalate(day=before_last, through=True)
    through = time.perf_counter() - t0
    print(f"escalate --through {before_last}（全学期 {totals['days']} 个学校日）：{through:.1f} 秒，"
          f"平均每校每天 {through / max(totals['days'], 1) * 1000:.0f} 毫秒")
    print(f"  个案 {Case.objects.count()}（其中辍学 {Case.objects.filter(stage='dropout').count()}），待办 {Task.objects.count()}")

    statements = []
    with connection.execute_wrapper(lambda execute, sql, params, many, context: (statements.append(1),
                                                                                 execute(sql, params, many, context))[1]):
        t0 = time.perf_counter()
        daily = escalate(day=last)
        one_day = time.perf_counter() - t0
    print(f"escalate --date {last}（全县 {len(schools)} 所学校新的一天，新个案 {daily['opened']}，推进 {daily['advanced']}，"
          f"销账 {daily['closed']}）：{one_day:.2f} 秒，SQL {len(statements)} 条")

    t0 = time.perf_counter()
    for school in schools:
        evaluate_day(school, last, force=True)
    replayed = time.perf_counter() - t0
    print(f"重新评估 {last}（全县每所学校的未销账个案按考勤重算一遍，考勤更正后的重算即此）：{replayed:.2f} 秒")

if __name__ == "__main__":
    main()
