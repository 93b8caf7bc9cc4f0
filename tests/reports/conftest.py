"""April 2026 at 示范县第一初级中学, with every kind of event the monthly report counts.

Cases (13510 runs), 学籍异动 and key-group memberships are made directly as rows, with the dates
the report counts by:

- 张三: suspected 3月31日 (March), closed 4月8日 as 已返校 — a case opened in one month, closed in the next.
- 李四: suspected 4月14日, open; reached the dropout ledger 5月6日 (after April).
- 王五: dropout since 3月24日, still out.
- 赵六: suspected 4月8日, dropout 4月22日, 复学 4月28日.
- 钱七: absent since 4月27日, at the contact-guardian step, open.
- 孙八: a contact-step run closed 4月10日 as 请假 (not a suspected dropout: no return counted).
- 陈九: suspected 3月10日, transferred out 3月30日, case closed 4月5日 as 转学.
- 周一: 休学 4月10日. 吴二: 复学 4月20日. 郑三: 转入 4月15日. 冯四: 转出 4月16日.
- 褚五: a 转出 4月18日 that was cancelled. 卫六: 转入 5月10日 (after April). 蒋七: 转出 5月12日.
- 沈八, 韩九, 杨十: at school all along.
"""

import datetime
from types import SimpleNamespace

import pytest

from baoxue.cases.models import Outcome, Rules, Stage
from baoxue.org.models import Grade, KeyGroup, KeyGroupMembership, RegistryStatus, SchoolClass
from baoxue.registry.models import ChangeType
from tests.reports.report_helpers import add_case, add_change, pupil, set_status

D = datetime.date
S = RegistryStatus


@pytest.fixture
def rules(county):
    return Rules.objects.create(county=county)


@pytest.fixture
def april(people, school, rules):
    c71, c72 = people["c71"], people["c72"]
    g8 = Grade.objects.create(school=school, name="八年级", order=8)
    c81 = SchoolClass.objects.create(school=school, grade=g8, name="(1)班")
    seq = iter(range(1000))

    def st(name, cls=c71):
        return pupil(school, cls, name, next(seq))

    s = SimpleNamespace(c81=c81, g8=g8)
    s.zhangsan, s.lisi, s.wangwu, s.zhaoliu = st("张三"), st("李四"), st("王五", c72), st("赵六", c81)
    s.qianqi, s.sunba, s.chenjiu = st("钱七", c81), st("孙八"), st("陈九", c72)
    s.zhouyi, s.wuer, s.zhengsan, s.fengsi = st("周一"), st("吴二", c81), st("郑三", c81), st("冯四")
    s.chuwu, s.weiliu, s.jiangqi = st("褚五"), st("卫六", c81), st("蒋七", c72)
    s.plain = [st("沈八"), st("韩九", c81), st("杨十", c72)]

    s.case_a = add_case(s.zhangsan, rules, D(2026, 3, 25), stage=Stage.SUSPECTED_DROPOUT, suspected_on=D(2026, 3, 31),
                        closed_on=D(2026, 4, 8), outcome=Outcome.RETURNED)
    s.case_b = add_case(s.lisi, rules, D(2026, 4, 7), stage=Stage.DROPOUT, suspected_on=D(2026, 4, 14),
                        dropout_on=D(2026, 5, 6))
    set_status(s.lisi, S.DROPPED_OUT, D(2026, 5, 6))
    s.case_c = add_case(s.wangwu, rules, D(2026, 3, 2), stage=Stage.DROPOUT, suspected_on=D(2026, 3, 9),
                        dropout_on=D(2026, 3, 24))
    set_status(s.wangwu, S.DROPPED_OUT, D(2026, 3, 24))
    s.case_d = add_case(s.zhaoliu, rules, D(2026, 4, 1), stage=Stage.DROPOUT, suspected_on=D(2026, 4, 8),
                        dropout_on=D(2026, 4, 22), closed_on=D(2026, 4, 28), outcome=Outcome.RESUMED)
    set_status(s.zhaoliu, S.IN_SCHOOL, D(2026, 4, 28))
    s.case_e = add_case(s.qianqi, rules, D(2026, 4, 27))
    s.case_f = add_case(s.sunba, rules, D(2026, 4, 8), closed_on=D(2026, 4, 10), outcome=Outcome.EXCUSED)
    s.case_g = add_case(s.chenjiu, rules, D(2026, 3, 3), stage=Stage.SUSPECTED_DROPOUT, suspected_on=D(2026, 3, 10),
                        closed_on=D(2026, 4, 5), outcome=Outcome.TRANSFERRED)
    add_change(s.chenjiu, ChangeType.TRANSFER_OUT, D(2026, 3, 30), S.IN_SCHOOL, S.TRANSFERRED_OUT, other_school="外县一中")

    add_change(s.zhouyi, ChangeType.SUSPEND, D(2026, 4, 10), S.IN_SCHOOL, S.SUSPENDED)
    add_change(s.wuer, ChangeType.SUSPEND, D(2025, 10, 13), S.IN_SCHOOL, S.SUSPENDED)
    add_change(s.wuer, ChangeType.RESUME, D(2026, 4, 20), S.SUSPENDED, S.IN_SCHOOL)
    add_change(s.zhengsan, ChangeType.TRANSFER_IN, D(2026, 4, 15), S.IN_SCHOOL, S.IN_SCHOOL, other_school="外县二中")
    add_change(s.fengsi, ChangeType.TRANSFER_OUT, D(2026, 4, 16), S.IN_SCHOOL, S.TRANSFERRED_OUT,
               other_school="市实验中学")
    add_change(s.chuwu, ChangeType.TRANSFER_OUT, D(2026, 4, 18), S.IN_SCHOOL, S.TRANSFERRED_OUT,
               cancelled_on=D(2026, 4, 19))
    add_change(s.weiliu, ChangeType.TRANSFER_IN, D(2026, 5, 10), S.IN_SCHOOL, S.IN_SCHOOL)
    add_change(s.jiangqi, ChangeType.TRANSFER_OUT, D(2026, 5, 12), S.IN_SCHOOL, S.TRANSFERRED_OUT,
               other_school="外省学校")

    def group(student, g, started_on, ended_on=None):
        KeyGroupMembership.objects.create(student=student, county=student.county, school=student.school, group=g,
                                          started_on=started_on, ended_on=ended_on)
    group(s.lisi, KeyGroup.LEFT_BEHIND, D(2025, 9, 1))
    group(s.plain[0], KeyGroup.LEFT_BEHIND, D(2025, 9, 1))
    group(s.plain[0], KeyGroup.POOR, D(2025, 9, 1))
    group(s.zhouyi, KeyGroup.POOR, D(2025, 9, 1))  # suspended at the end: not counted
    group(s.zhangsan, KeyGroup.POOR, D(2025, 9, 1), ended_on=D(2026, 3, 15))  # ended before April
    group(s.plain[1], KeyGroup.DISABLED, D(2026, 5, 3))  # began after April
    return s


@pytest.fixture
def on_day(monkeypatch):
    """on_day(date): "today" is that date for the services and pages."""
    from django.utils import timezone

    def _set(day):
        monkeypatch.setattr(timezone, "localdate", lambda *a, **k: day)
    return _set


@pytest.fixture
def login(client):
    def _login(user):
        client.force_login(user)
        return client
    return _login
