from django.apps import AppConfig


class CalendarConfig(AppConfig):
    name = "baoxue.calendar"
    label = "schoolcalendar"
    verbose_name = "校历与工作日"
