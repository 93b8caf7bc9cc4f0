from django.apps import AppConfig


class CareConfig(AppConfig):
    name = "baoxue.care"
    label = "care"
    verbose_name = "重点群体与关爱帮扶"
