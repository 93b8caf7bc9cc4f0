import datetime

from django.urls import path, register_converter

from baoxue.attendance import views


class DateConverter:
    """A day in a URL as YYYY-MM-DD (an impossible date is a 404)."""

    regex = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"

    def to_python(self, value: str) -> datetime.date:
        return datetime.date.fromisoformat(value)

    def to_url(self, value) -> str:
        return value.isoformat() if isinstance(value, datetime.date) else str(value)


register_converter(DateConverter, "isodate")

urlpatterns = [
    path("classes/<int:class_pk>/", views.roll_call, name="roll_call_today"),
    path("classes/<int:class_pk>/<isodate:day>/", views.roll_call, name="roll_call"),
    path("schools/<str:code>/roll-calls/", views.roll_call_status, name="roll_call_status"),
    path("students/<int:pk>/", views.student_attendance, name="attendance_history"),
    path("students/<int:pk>/leave/", views.leave_new, name="attendance_leave"),
    path("records/<int:pk>/excuse/", views.record_excuse, name="attendance_excuse"),
    path("import/", views.import_upload, name="attendance_import"),
    path("import/<uuid:token>/", views.import_preview, name="attendance_import_preview"),
    path("import/<uuid:token>/confirm/", views.import_confirm, name="attendance_import_confirm"),
    path("import/<uuid:token>/cancel/", views.import_cancel, name="attendance_import_cancel"),
]
