"""13510 待办: the head teacher's steps with their due dates, the office's open cases, the
leaders' counts, the township's reports."""

import datetime as dt

from django.urls import reverse

from baoxue.cases.models import Case, Report, Task
from baoxue.cases.selectors import inbox_counts
from tests.web.test_cases_helpers import FIRST_WEEK, absent, dropout, suspected  # noqa: F401 (fixtures)

URL = reverse("cases_inbox")


def test_it_shows_the_head_teachers_tasks_with_rule_and_due_date(login, org):
    absent(org.school, org.student_1, FIRST_WEEK[:3])
    html = login(org.head_teacher_1).get(URL).content.decode()
    assert "张三" in html
    assert "第1天：联系家长了解情况，截止 2025年9月1日" in html
    assert "第3天：家访或与监护人联系跟进，截止 2025年9月4日" in html  # due the next school day
    assert "逾期" in html  # today is long after September 2025


def test_a_recorded_contact_completes_the_day_1_task(login, org):
    case = absent(org.school, org.student_1, FIRST_WEEK[:1])
    client = login(org.head_teacher_1)
    r = client.post(reverse("case_contact_add", args=[case.pk]),
                    {"at": "2025-09-01T10:30", "method": "phone", "reached": "父亲 张大山", "reason_given": "在家睡觉",
                     "result": "明天送到校"})
    assert r.status_code == 302
    assert "第1天：联系家长了解情况" not in client.get(URL).content.decode()


def test_another_head_teacher_does_not_see_the_task(login, org):
    absent(org.school, org.student_1, FIRST_WEEK[:1])
    html = login(org.head_teacher_2).get(URL).content.decode()
    assert "张三" not in html and "没有未完成的待办" in html


def test_the_office_sees_every_open_case_with_counts_by_stage(login, org, suspected):
    absent(org.school, org.student_2, FIRST_WEEK[:2])
    html = login(org.office).get(URL).content.decode()
    assert "未销账个案" in html and "张三" in html and "李四" in html
    assert "<strong>1</strong>联系家长" in html and "<strong>1</strong>疑似辍学" in html
    assert "<strong>1</strong>逾期" in html and "<strong>1</strong>劝返不足" in html


def test_the_office_sees_each_flag_in_chinese(login, org, suspected, dropout):
    Case.objects.filter(pk=suspected.pk).update(change_pending="转出", change_since=dt.date(2025, 9, 22),
                                                change_due_on=dt.date(2025, 10, 22))
    Case.objects.filter(pk=dropout.pk).update(seen_at_school_on=dt.date(2025, 9, 22))
    html = login(org.office).get(URL).content.decode()
    assert "学籍异动办理中（转出，2025年9月22日起，2025年10月22日前办结）" in html
    assert "辍学后到校：请办理复学？" in html
    assert "劝返不足" in html and "逾期" in html


def test_a_cancelled_task_is_shown_as_cancelled_and_never_due(login, org):
    case = absent(org.school, org.student_1, FIRST_WEEK[:3])
    # An attendance correction cancelled the day-3 step (the job sets closed_on too).
    Task.objects.filter(case=case, kind="home_visit").update(cancelled_on=dt.date(2025, 9, 5),
                                                              closed_on=dt.date(2025, 9, 5))
    client = login(org.head_teacher_1)
    html = client.get(URL).content.decode()
    assert "第1天：联系家长了解情况" in html and "第3天：家访或与监护人联系跟进" not in html
    assert inbox_counts(org.head_teacher_1)["tasks_due"] == 1
    html = client.get(reverse("case_detail", args=[case.pk])).content.decode()
    assert "已撤销（考勤更正）" in html and "随销账关闭" not in html


def test_leaders_see_counts(login, org, suspected, dropout):
    html = login(org.leader).get(URL).content.decode()
    assert "<strong>1</strong>疑似辍学" in html and "<strong>1</strong>辍学劝返中" in html
    assert "<strong>0</strong>本学期返校/复学" in html
    # Counts, and only the cases that need pushing: 张三 is past his deadline, 李四 is not flagged.
    assert "需要督促" in html and "张三" in html and "李四" not in html


def test_the_township_reads_its_report_and_marks_it_read(login, org, dropout):
    client = login(org.township_official)
    html = client.get(URL).content.decode()
    assert "李四" in html and "1 份未阅" in html and "留固镇" in html
    report = Report.objects.get(case=dropout, recipient="township")
    r = client.post(reverse("cases_report_read", args=[report.pk]))
    assert r.status_code == 302
    report.refresh_from_db()
    assert report.read_by == org.township_official and report.read_at is not None
    html = client.get(URL).content.decode()
    assert "份未阅" not in html and "已阅" in html


def test_the_county_sees_its_report_but_not_the_townships(login, org, dropout):
    html = login(org.county_official).get(URL).content.decode()
    assert "报告县教体局" in html and "报告乡镇政府" not in html


def test_a_report_of_another_township_cannot_be_marked_read(login, org, suspected):
    from baoxue.cases.services import case_mark_missing
    import datetime as dt

    case_mark_missing(actor=org.office, case=suspected, on=dt.date(2025, 9, 8))  # 张三 lives in 城关镇
    report = Report.objects.get(case=suspected, recipient="township")
    r = login(org.township_official).post(reverse("cases_report_read", args=[report.pk]))
    assert r.status_code == 404
    report.refresh_from_db()
    assert report.read_at is None


def test_inbox_counts_for_the_home_page(org, suspected, dropout):
    assert inbox_counts(org.head_teacher_1)["tasks_due"] == 2
    office = inbox_counts(org.office)
    assert (office["school_open"], office["suspected"], office["dropout"], office["overdue"]) == (2, 1, 1, 1)
    assert inbox_counts(org.township_official)["unread_reports"] == 1
    assert inbox_counts(org.outsider)["any"] is False


def test_the_navigation_links(login, org):
    suspected, dropout = reverse("cases_ledger_suspected"), reverse("cases_ledger_dropout")
    html = login(org.head_teacher_1).get(URL).content.decode()
    assert ">13510 待办</a>" in html and suspected not in html
    html = login(org.office).get(URL).content.decode()
    assert f'href="{suspected}"' in html and f'href="{dropout}"' in html
    assert "13510 待办" not in login(org.outsider).get(reverse("home")).content.decode()


# The block the home page shows (org/home.html includes it as is).
HOME_SNIPPET = """{% load cases_tags %}{% inbox_counts user as inbox %}
{% if inbox.any %}
<section id="cases">
  <h2><a href="{% url 'cases_inbox' %}">13510 待办</a></h2>
  {% if inbox.nothing %}<p class="muted">没有到期的待办，也没有未销账的个案。</p>{% else %}
  <ul class="stats">
    {% if inbox.tasks_due %}<li class="bad"><strong>{{ inbox.tasks_due }}</strong>项待办已到期</li>{% endif %}
    {% if inbox.my_cases %}<li><strong>{{ inbox.my_cases }}</strong>个我负责的个案</li>{% endif %}
    {% if inbox.school_open %}<li><strong>{{ inbox.school_open }}</strong>个未销账个案</li>
    <li><strong>{{ inbox.suspected }}</strong>疑似辍学</li>
    <li><strong>{{ inbox.dropout }}</strong>辍学劝返中</li>
    <li{% if inbox.short %} class="bad"{% endif %}><strong>{{ inbox.short }}</strong>劝返不足</li>
    <li{% if inbox.overdue %} class="bad"{% endif %}><strong>{{ inbox.overdue }}</strong>逾期</li>{% endif %}
    {% if inbox.unread_reports %}<li class="bad"><strong>{{ inbox.unread_reports }}</strong>份辍学报告未阅</li>{% endif %}
  </ul>
  {% endif %}
  <p class="actions"><a class="btn primary" href="{% url 'cases_inbox' %}">打开 13510 待办</a></p>
</section>
{% endif %}"""


def render_home_snippet(user) -> str:
    from django.template import Context, Template

    return Template(HOME_SNIPPET).render(Context({"user": user}))


def test_the_home_snippet(org, suspected, dropout):
    assert "<strong>2</strong>项待办已到期" in render_home_snippet(org.head_teacher_1)
    office = render_home_snippet(org.office)
    assert "<strong>2</strong>个未销账个案" in office and "<strong>1</strong>逾期" in office
    assert "<strong>1</strong>份辍学报告未阅" in render_home_snippet(org.township_official)
    assert render_home_snippet(org.mentor).strip() == ""  # no cases of their own
    assert render_home_snippet(org.outsider).strip() == ""
