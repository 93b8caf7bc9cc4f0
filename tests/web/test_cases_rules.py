"""13510 规则: the county changes its thresholds; open cases keep the rules they were opened under."""

from django.urls import reverse

from baoxue.cases.models import Rules
from baoxue.cases.services import rules_for
from tests.web.test_cases_helpers import suspected  # noqa: F401 (fixture)

URL = reverse("cases_rules")
NEW = {"contact_day": 1, "visit_day": 2, "suspect_day": 3, "persuasion_working_days": 15, "min_attempts": 4}


def test_the_county_changes_the_rules_and_open_cases_keep_theirs(login, org, suspected):
    client = login(org.county_official)
    html = client.get(URL).content.decode()
    assert "10</strong> 个工作日内劝返不少于 <strong>3</strong> 次" in html and "保存为新规则" in html
    r = client.post(URL, NEW)
    assert r.status_code == 302
    current = rules_for(org.county.pk)
    assert (current.suspect_day, current.persuasion_working_days, current.min_attempts) == (3, 15, 4)
    assert current.created_by == org.county_official
    suspected.refresh_from_db()
    assert suspected.rules.min_attempts == 3  # the open case keeps its rules
    html = client.get(URL).content.decode()
    assert "1 个未销账个案按旧规则办理" in html and "历次规则" in html


def test_days_out_of_order_are_refused(login, org):
    r = login(org.county_official).post(URL, NEW | {"visit_day": 5})
    assert r.status_code == 200 and "天数须满足" in r.content.decode()
    assert not Rules.objects.filter(suspect_day=3).exists()


def test_a_school_reads_the_rules_but_cannot_change_them(login, org):
    client = login(org.office)
    html = client.get(URL).content.decode()
    assert "现行规则" in html and "保存为新规则" not in html
    assert client.post(URL, NEW).status_code == 404
    assert login(org.outsider).get(URL).status_code == 404
