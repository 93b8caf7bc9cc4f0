"""SQLite as the embedded default: 50 head teachers submitting their roll calls at the same
moment all succeed (WAL, transactions that take the write lock when they begin, a busy timeout).

Run in a child process on a database file: the test database of pytest-django is in memory,
where SQLite locks differently."""

import json
import os
import subprocess
import sys

import pytest

SCRIPT = r'''
import datetime, json, threading
import django
django.setup()
from django.core.management import call_command
from django.db import connection
call_command("migrate", verbosity=0)
from baoxue.attendance.models import Mark, RollCall
from baoxue.attendance.services import roll_call_submit
from baoxue.lib.idcard import make_resident_id
from baoxue.org.models import County, Grade, School, SchoolClass, Student, Term, Township
from django.contrib.auth import get_user_model

day = datetime.date(2025, 10, 9)
county = County.objects.create(code="410999", name="示范县")
township = Township.objects.create(county=county, name="城关镇")
school = School.objects.create(code="4109990001", name="一中", county=county, township=township)
Term.objects.create(school=school, name="2025-2026-1", start=datetime.date(2025, 9, 1), end=datetime.date(2026, 1, 23))
grade = Grade.objects.create(school=school, name="七年级", order=7)
User = get_user_model()
classes = []
for n in range(50):
    teacher = User.objects.create(username=f"t{n}")
    c = SchoolClass.objects.create(school=school, grade=grade, name=f"({n + 1})班", head_teacher=teacher)
    for k in range(20):
        seq = n * 20 + k + 1
        number = make_resident_id("410999", datetime.date(2012, 1, 1) + datetime.timedelta(days=seq // 90),
                                  seq % 90, "M")
        Student.objects.create(county=county, school=school, school_class=c, name=f"学生{seq}", sex="M",
                               id_number=number, registry_no="G" + number)
    classes.append(c)
connection.close()

barrier = threading.Barrier(50)
errors = []

def submit(c):
    try:
        absent = list(c.students.values_list("pk", flat=True)[:2])
        barrier.wait()
        roll_call_submit(actor=c.head_teacher, school_class=c, date=day,
                         marks={absent[0]: (Mark.TRUANT, ""), absent[1]: (Mark.SICK, "发烧")})
    except Exception as e:
        errors.append(f"{type(e).__name__}: {e}")
    finally:
        connection.close()

threads = [threading.Thread(target=submit, args=(c,)) for c in classes]
for t in threads: t.start()
for t in threads: t.join()
print(json.dumps({"errors": errors, "roll_calls": RollCall.objects.filter(date=day).count(),
                  "journal": connection.cursor().execute("PRAGMA journal_mode").fetchone()[0]}))
'''


@pytest.mark.skipif(os.environ.get("DATABASE_URL", "").startswith("postgres"), reason="SQLite only")
def test_fifty_simultaneous_roll_calls_on_sqlite_all_succeed(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'school.sqlite3'}", "BAOXUE_VAR_DIR": str(tmp_path),
           "DJANGO_SETTINGS_MODULE": "baoxue.settings", "SECRET_KEY": "x", "DEBUG": "1"}
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["errors"] == []
    assert result["roll_calls"] == 50
    assert result["journal"] == "wal"
