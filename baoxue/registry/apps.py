from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "baoxue.registry"
    label = "registry"
    verbose_name = "人籍一致与学籍异动"
