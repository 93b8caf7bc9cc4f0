"""The web fixtures (a county with one account per role) and a dropout: 李四 of 七(2)班, who lives
in 留固镇, absent the first week of September 2025 and marked 失踪失联 on 9月8日."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from baoxue.cases.models import PersuasionAttempt
from baoxue.cases.services import attempt_add
from tests.web.conftest import fast_passwords, login, media, org  # noqa: F401 (fixtures)
from tests.web.test_cases_helpers import dropout  # noqa: F401 (fixture)

D = dt.date
PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def pdf(name="判决书.pdf"):
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def fake_pdf(name="判决书.pdf"):
    """A program renamed to .pdf: refused by content."""
    return SimpleUploadedFile(name, b"MZ\x90\x00" + b"\x00" * 60, content_type="application/pdf")


def joint(org, case, n, *, units=("村委会",)) -> list[PersuasionAttempt]:
    """`n` 联合劝返, each with the office and people from `units`."""
    return [attempt_add(actor=org.office, case=case, date=D(2025, 9, 8 + i), method=PersuasionAttempt.Method.JOINT,
                        participants=[{"name": "钱主任", "unit": "学校"}]
                        + [{"name": f"{u}干部", "unit": u} for u in units], result="家长仍拒绝送孩子返校")
            for i in range(n)]


@pytest.fixture
def jointly_persuaded(org, dropout):
    joint(org, dropout, 3, units=("村委会", "留固镇政府"))
    return dropout
