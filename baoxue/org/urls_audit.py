from django.urls import path

from baoxue.org import audit_log as views

urlpatterns = [
    path("", views.entry_list, name="audit_list"),
    path("export.xlsx", views.entry_export, name="audit_export"),
]
