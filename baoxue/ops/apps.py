from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Running Baoxue on a server: the production web server, backups and restores, the audit
    archive. Above every domain app (like the demo): it may use them, none uses it."""

    name = "baoxue.ops"
    label = "ops"
    verbose_name = "运行与维护"
