"""Seed the working-day table from chinese-calendar for every year it holds."""

from django.db import migrations


def seed(apps, schema_editor):
    from baoxue.calendar.services import PACKAGE_SOURCE, package_days, package_years

    CalendarDay = apps.get_model("schoolcalendar", "CalendarDay")
    CalendarYear = apps.get_model("schoolcalendar", "CalendarYear")
    for year in package_years():
        if CalendarYear.objects.filter(year=year).exists():
            continue
        CalendarDay.objects.bulk_create(
            [CalendarDay(date=d, is_working=w, note=n) for d, w, n in package_days(year)], batch_size=1000
        )
        CalendarYear.objects.create(year=year, source=PACKAGE_SOURCE)


class Migration(migrations.Migration):
    dependencies = [("schoolcalendar", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
