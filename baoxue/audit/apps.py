from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "baoxue.audit"
    label = "audit"
    verbose_name = "操作日志"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from baoxue.audit.services import _record_login

        # Every sign-in is in the trail too (全程留痕).
        user_logged_in.connect(_record_login, dispatch_uid="baoxue_audit_login")
