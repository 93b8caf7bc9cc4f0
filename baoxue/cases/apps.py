from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "baoxue.cases"
    label = "cases"
    verbose_name = "13510 与劝返台账"

    def ready(self):
        # Attendance and the calendar sit below this app and announce their changes; the
        # 13510 job replays what it had evaluated (baoxue.cases.replay).
        from baoxue.attendance.signals import absence_advice, attendance_changed, open_case_asked
        from baoxue.calendar.signals import calendar_changed, calendar_warnings
        from baoxue.cases import receivers

        attendance_changed.connect(receivers.on_attendance_changed, dispatch_uid="cases.replay.attendance")
        calendar_changed.connect(receivers.on_calendar_changed, dispatch_uid="cases.replay.calendar")
        calendar_warnings.connect(receivers.on_calendar_warnings, dispatch_uid="cases.calendar_warnings")
        absence_advice.connect(receivers.on_absence_advice, dispatch_uid="cases.absence_advice")
        open_case_asked.connect(receivers.on_open_case_asked, dispatch_uid="cases.open_case")
