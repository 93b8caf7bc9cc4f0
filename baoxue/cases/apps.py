from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "baoxue.cases"
    label = "cases"
    verbose_name = "13510 与劝返台账"
