from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "baoxue.registry"
    label = "registry"
    verbose_name = "人籍一致与学籍异动"

    def ready(self):
        # The roll call (below this app) asks for banners: 休学期满未复学.
        from baoxue.attendance.signals import roll_notes_asked
        from baoxue.registry import receivers

        roll_notes_asked.connect(receivers.on_roll_notes_asked, dispatch_uid="registry.roll_notes")
