from django.apps import AppConfig


class OrgConfig(AppConfig):
    name = "baoxue.org"
    label = "org"
    verbose_name = "组织与人员"

    def ready(self):
        from django.contrib.admin.models import LogEntry
        from django.contrib.auth.signals import user_logged_in
        from django.db.models.signals import post_save

        from baoxue.org.signin import _admin_set_password, _flag_sign_in

        # An initial password chosen by someone else is changed at the first sign-in.
        user_logged_in.connect(_flag_sign_in, dispatch_uid="baoxue_org_must_change_password")
        post_save.connect(_admin_set_password, sender=LogEntry, dispatch_uid="baoxue_org_admin_password")
