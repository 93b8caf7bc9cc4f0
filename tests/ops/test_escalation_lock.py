"""One escalation at a time per county: a second run while one is running exits 0 with
"已有评估在运行" and touches nothing; two runs started together leave the same cases as one.

Run in child processes on a real database (a file for SQLite, a scratch database on PostgreSQL):
the lock is between processes."""

import json
import os
import subprocess
import sys
import uuid

import pytest

SCRIPT = r'''
import datetime, json, subprocess, sys, os
import django
django.setup()
from django.core.management import call_command
from django.db import connection
call_command("migrate", verbosity=0)
from baoxue.attendance.models import Mark
from baoxue.attendance.services import roll_call_submit
from baoxue.calendar import workdays
from baoxue.cases.escalation import escalate
from baoxue.cases.models import Case, Evaluation
from baoxue.lib.idcard import make_resident_id
from baoxue.lib.joblock import exclusive
from baoxue.org.models import County, Grade, School, SchoolClass, Student, Term, Township
from django.contrib.auth import get_user_model

county = County.objects.create(code="410999", name="示范县")
township = Township.objects.create(county=county, name="城关镇")
school = School.objects.create(code="4109990001", name="一中", county=county, township=township)
Term.objects.create(school=school, name="2025-2026-1", start=datetime.date(2025, 9, 1), end=datetime.date(2026, 1, 23))
grade = Grade.objects.create(school=school, name="七年级", order=7)
teacher = get_user_model().objects.create(username="t1")
c = SchoolClass.objects.create(school=school, grade=grade, name="(1)班", head_teacher=teacher)
kids = []
for n in range(40):
    number = make_resident_id("410999", datetime.date(2012, 3, 5), n + 1, "M")
    kids.append(Student.objects.create(county=county, school=school, school_class=c, name=f"学生{n}", sex="M",
                                       id_number=number, registry_no="G" + number))
days = workdays.school_days(school, datetime.date(2025, 9, 1), datetime.date(2025, 11, 14))
for i, day in enumerate(days):
    marks = {k.pk: (Mark.TRUANT, "") for j, k in enumerate(kids) if (i + j) % 7 < 3 + j % 5}
    roll_call_submit(actor=teacher, school_class=c, date=day, marks=marks)
through = days[-1].isoformat()
connection.close()

def run():
    return subprocess.Popen([sys.executable, "-m", "baoxue", "escalate", "--through", through],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

def snapshot():
    return sorted(Case.objects.values_list("student_id", "first_absent_on", "last_absent_on", "stage", "is_open",
                                           "outcome").order_by())

result = {}
with exclusive(f"escalate-county-{county.pk}") as mine:
    assert mine
    held = run()
    out, err = held.communicate(timeout=600)
    result["held"] = {"rc": held.returncode, "out": out, "err": err[-2000:], "cases": Case.objects.count()}
connection.close()
a, b = run(), run()
outs = [p.communicate(timeout=900) for p in (a, b)]
result["together"] = [{"rc": p.returncode, "out": o, "err": e[-2000:]} for p, (o, e) in zip((a, b), outs)]
together = snapshot()
Case.objects.all().delete()
Evaluation.objects.all().delete()
escalate(day=datetime.date.fromisoformat(through), through=True)
result["same_as_one_run"] = together == snapshot()
result["cases"] = len(together)
print(json.dumps(result, ensure_ascii=False))
'''


def _database_url(tmp_path) -> tuple[str, callable]:
    """A fresh database for the child processes, and how to drop it."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        return f"sqlite:///{tmp_path / 'county.sqlite3'}", lambda: None
    import psycopg

    base = url.rsplit("/", 1)[0]
    name = f"baoxue_lock_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop():
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return f"{base}/{name}", drop


def test_a_second_escalation_waits_its_turn_and_two_together_equal_one(tmp_path):
    url, drop = _database_url(tmp_path)
    env = {**os.environ, "DATABASE_URL": url, "BAOXUE_VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "baoxue.settings",
           "SECRET_KEY": "x", "DEBUG": "1"}
    try:
        done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=1500)
    finally:
        drop()
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    held = result["held"]
    assert held["rc"] == 0 and "已有评估在运行：示范县" in held["out"] and "Traceback" not in held["err"]
    assert held["cases"] == 0
    for run in result["together"]:
        assert run["rc"] == 0 and "Traceback" not in run["err"], run
    assert result["cases"] > 0
    assert result["same_as_one_run"]
