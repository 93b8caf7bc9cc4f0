from django.urls import path

from baoxue.audit import views

urlpatterns = [
    path("", views.entry_list, name="audit_list"),
    path("export.xlsx", views.entry_export, name="audit_export"),
]
