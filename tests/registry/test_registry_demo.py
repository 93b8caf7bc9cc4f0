"""The demo's 人籍一致 files: a 国网 roster export of 示范县第一初级中学 with something in every
category, and a graduate list matched by ID, by name and birth date, and not at all."""

import datetime
import hashlib

import openpyxl
import pytest
from django.db import transaction

from baoxue.demo.county import build_demo
from baoxue.org.models import School
from baoxue.demo.registry import GRADUATE_COLUMNS, ROSTER_COLUMNS, write_demo_files
from baoxue.registry.graduates import import_graduates
from baoxue.registry.reconcile import CATEGORIES, reconcile

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 11, 29)


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, tmp_path_factory):
    """One build for the module, with var/ in a temporary directory; undone at the end."""
    from django.conf import settings

    var = tmp_path_factory.mktemp("var")
    old, settings.VAR_DIR = settings.VAR_DIR, var
    try:
        with django_db_blocker.unblock(), transaction.atomic():
            result = build_demo(seed=2025, today=TODAY)
            yield result, var
            transaction.set_rollback(True)
    finally:
        settings.VAR_DIR = old


def test_it_writes_both_files_under_var_demo(demo):
    result, var = demo
    assert result.demo_files == {"roster": var / "demo" / "国网学籍名册-4109990001.xlsx",
                                 "graduates": var / "demo" / "小学毕业生名单-2026.xlsx"}
    assert all(p.is_file() for p in result.demo_files.values())


def test_the_roster_has_the_registry_columns_with_identifiers_as_text(demo):
    ws = openpyxl.load_workbook(demo[0].demo_files["roster"]).active
    assert [c.value for c in ws[1]] == ROSTER_COLUMNS
    ids = [row[ROSTER_COLUMNS.index("身份证件号")] for row in ws.iter_rows(min_row=2, values_only=True)]
    assert sum(isinstance(v, float) for v in ids) == 1  # the one planted numeric cell
    assert all(isinstance(v, str) or v is None or isinstance(v, float) for v in ids)
    codes = {row[0] for row in ws.iter_rows(min_row=2, values_only=True)}
    assert codes == {"4109990001"}


def test_reconciling_the_roster_finds_every_category(demo):
    path = demo[0].demo_files["roster"]
    school = School.objects.get(code="4109990001")
    with open(path, "rb") as f:
        result = reconcile(actor=None, source=f, filename=path.name, school=school, dry_run=True)
    counts = result.counts
    assert all(counts[c] for c in CATEGORIES), counts
    assert counts["present_not_registered"] == 3 and counts["mismatched"] == 3
    assert counts["duplicates"] == 2 and counts["invalid"] == 2
    # 3 people who are not students, and the school's 休学/辍学 students still registered.
    assert counts["registered_not_present"] >= 3
    assert sorted(f for p in result.people["mismatched"] for f in p.fields) == ["出生日期", "姓名", "班级"]
    reasons = " ".join(p.reason for p in result.people["invalid"])
    assert "校验位" in reasons and "数字格式" in reasons


def test_the_graduates_are_matched_by_id_by_name_and_birth_date_and_not_at_all(demo):
    path = demo[0].demo_files["graduates"]
    ws = openpyxl.load_workbook(path).active
    assert [c.value for c in ws[1]] == GRADUATE_COLUMNS
    assert {row[2] for row in ws.iter_rows(min_row=2, values_only=True)} == {
        "城关镇中心小学", "留固镇李庄小学", "白道口镇杨庄小学"}
    county = School.objects.get(code="4109990001").county
    report = import_graduates(actor=None, source=str(path), filename=path.name, county=county,
                              graduation_year=2026, dry_run=True)
    assert not report.problems
    assert report.matched_by_id > 50 and report.matched_by_name_birth == 3 and report.to_check == 8


def test_the_same_seed_gives_the_same_files(demo, tmp_path):
    again = write_demo_files(seed=2025, out_dir=tmp_path)
    for key, path in demo[0].demo_files.items():
        assert hashlib.sha256(again[key].read_bytes()).digest() == hashlib.sha256(path.read_bytes()).digest()
