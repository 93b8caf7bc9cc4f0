from django.urls import path, re_path

from baoxue.reports import views

MONTH = r"(?P<code>[0-9]{10})/(?P<month>[0-9]{4}-[0-9]{2})"

urlpatterns = [
    path("monthly/", views.monthly_list, name="report_monthly_list"),
    re_path(rf"^monthly/{MONTH}/$", views.monthly_detail, name="report_monthly_detail"),
    re_path(rf"^monthly/{MONTH}/report\.xlsx$", views.monthly_xlsx, name="report_monthly_xlsx"),
    re_path(rf"^monthly/{MONTH}/report\.docx$", views.monthly_docx, name="report_monthly_docx"),
    re_path(rf"^monthly/{MONTH}/(?P<action>[a-z]+)/$", views.monthly_act, name="report_monthly_act"),
    path("retention/", views.retention_page, name="report_retention"),
    path("retention/<str:code>/<int:year>/", views.retention_edit, name="report_retention_edit"),
]
