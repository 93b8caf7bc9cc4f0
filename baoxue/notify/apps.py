from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "baoxue.notify"
    label = "notify"
    verbose_name = "消息通知"

    def ready(self):
        from baoxue.notify import receivers  # noqa: F401  (connects to the signals of the apps below)
