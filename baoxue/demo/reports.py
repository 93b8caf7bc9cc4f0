"""The demo's monthly reports (学校一月一报告) of last month, one in each state a county sees on
the first days of a month, built through the services:

- school 1: reviewed by the office, signed by the principal, submitted to the bureau;
- school 2: reviewed, waiting for the principal's signature;
- the others: drafts, so the bureau's list shows who has not submitted.
"""

import datetime

from django.contrib.auth import get_user_model

from baoxue.calendar.workdays import CalendarMissing
from baoxue.org.models import School
from baoxue.reports import monthly, services

User = get_user_model()


def plant_reports(today: datetime.date) -> list[str]:
    """Draft last month's reports (as the scheduler does) and take two of them further; returns
    lines for the demo's summary."""
    month = monthly.previous_month(today)
    try:
        first_day = monthly.first_working_day_after(month)
    except CalendarMissing:
        return []
    schools = list(School.objects.order_by("code"))
    for school in schools:
        services.report_draft(actor=None, school=school, month=month, today=max(today, first_day))
    lines = [f"{monthly.month_label(month)}月报告已起草 {len(schools)} 份"]
    steps = [("office", "principal", True), ("office2", "principal2", False)]
    for school, (office, principal, submit) in zip(schools, steps):
        report = school.monthly_reports.get(month=month)
        office_user, principal_user = User.objects.get(username=office), User.objects.get(username=principal)
        report = services.report_review(actor=office_user, report=report,
                                        remarks="本月按13510机制落实每日点名和劝返，未销账个案均已指定劝返责任人。")
        if submit:
            report = services.report_sign(actor=principal_user, report=report)
            services.report_submit(actor=office_user, report=report)
            lines.append(f"{school.name}：已审核、校长签字并提交教体局")
        else:
            lines.append(f"{school.name}：已审核，待校长（{principal}）签字")
    return lines
