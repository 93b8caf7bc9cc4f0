from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "baoxue.reports"
    label = "reports"
    verbose_name = "报表与县域总览"
