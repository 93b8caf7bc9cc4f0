from django.apps import AppConfig


class LegalConfig(AppConfig):
    name = "baoxue.legal"
    label = "legal"
    verbose_name = "退出条件与依法控辍"
