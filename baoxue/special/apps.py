from django.apps import AppConfig


class SpecialConfig(AppConfig):
    name = "baoxue.special"
    label = "special"
    verbose_name = "特殊教育（残疾儿童安置与送教上门）"
