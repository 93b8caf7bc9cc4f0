from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "baoxue.audit"
    label = "audit"
    verbose_name = "操作日志"
