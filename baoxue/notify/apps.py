from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "baoxue.notify"
    label = "notify"
    verbose_name = "消息通知"

    def ready(self):
        # The 13510 app below announces opened tasks, new suspected cases and dropout reports
        # inside its writing transaction; the outbox rows commit with them.
        from baoxue.notify import receivers

        receivers.connect()
