"""Forms of the attendance pages. They check input only; the rules live in `services`."""

from django import forms
from django.conf import settings

from baoxue.attendance.imports import COVERS, LISTED_CLASSES
from baoxue.attendance.models import AT_SCHOOL, EXCUSED, LeaveRequest, Mark

PRESENT = "present"
# Two characters each, so that seven choices fit one line of a phone: 原因不明 shows as 不明.
SHORT_LABELS = {PRESENT: "到校", Mark.TRUANT: "旷课", Mark.UNKNOWN: "不明", Mark.SICK: "病假",
                Mark.PERSONAL: "事假", Mark.LATE: "迟到", Mark.EARLY: "早退"}
# The roll call lists the students on the roll: "到校" is the default, no record (Mark.PRESENT is
# for the files of students off the roll).
MARK_CHOICES = [(PRESENT, "到校")] + [c for c in Mark.choices if c[0] != Mark.PRESENT]
# Marks that are absences (late arrival and early leave are not).
ABSENT_MARKS = tuple(m for m in Mark.values if m not in AT_SCHOOL)


class RollCallRow:
    """One student of the roll call: the mark's radio buttons and the reason box."""

    def __init__(self, form, student, note: str = ""):
        self.student = student
        self.mark = form[f"m_{student.pk}"]
        self.reason = form[f"r_{student.pk}"]
        self.note = note  # e.g. an approved leave covering the day

    def options(self):
        """(radio subwidget, short label, mark value) for the template's compact buttons."""
        return [(radio, SHORT_LABELS[radio.data["value"]], radio.data["value"]) for radio in self.mark]

    @property
    def value(self) -> str:
        return self.mark.value() or PRESENT


class RollCallForm(forms.Form):
    """One radio group and one reason box per student; 到校 unless a mark was chosen."""

    def __init__(self, *args, students, initial_marks: dict[int, tuple[str, str]], notes=None, off_list=(),
                 seen_initial=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.students = list(students)
        self.notes = notes or {}
        # Students of the class not on the list (辍学, 学籍异动办理中): a tick if seen at school.
        self.off_list = list(off_list)
        for s in self.off_list:
            self.fields[f"seen_{s.pk}"] = forms.BooleanField(label=s.name, required=False,
                                                             initial=s.pk in set(seen_initial))
        for s in self.students:
            mark, reason = initial_marks.get(s.pk, (PRESENT, ""))
            self.fields[f"m_{s.pk}"] = forms.ChoiceField(
                label=s.name, choices=MARK_CHOICES, initial=mark, required=False, widget=forms.RadioSelect)
            self.fields[f"r_{s.pk}"] = forms.CharField(
                label="原因", initial=reason, required=False, max_length=200,
                widget=forms.TextInput(attrs={"placeholder": "原因（可不填）", "autocomplete": "off"}))

    def rows(self) -> list[RollCallRow]:
        return [RollCallRow(self, s, self.notes.get(s.pk, "")) for s in self.students]

    def marks(self) -> dict[int, tuple[str, str]]:
        """{student_pk: (mark, reason)} of everyone not simply present (for `roll_call_submit`)."""
        marks = {}
        for s in self.students:
            mark = self.cleaned_data.get(f"m_{s.pk}") or PRESENT
            if mark != PRESENT:
                marks[s.pk] = (mark, (self.cleaned_data.get(f"r_{s.pk}") or "").strip())
        return marks

    def seen(self) -> set[int]:
        return {s.pk for s in self.off_list if self.cleaned_data.get(f"seen_{s.pk}")}

    def seen_fields(self):
        return [(s, self[f"seen_{s.pk}"]) for s in self.off_list]

    def absent_count(self) -> int:
        return sum(1 for row in self.rows() if row.value in ABSENT_MARKS)


class LeaveForm(forms.Form):
    kind = forms.ChoiceField(label="类别", choices=LeaveRequest.Kind.choices, widget=forms.RadioSelect,
                             initial=LeaveRequest.Kind.SICK)
    start = forms.DateField(label="开始日期", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="结束日期", widget=forms.DateInput(attrs={"type": "date"}),
                          help_text="只请一天时与开始日期相同")
    reason = forms.CharField(label="事由", max_length=200,
                             widget=forms.TextInput(attrs={"placeholder": "如：发烧，县医院就诊"}))

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            self.add_error("end", "结束日期不能早于开始日期")
        return data


class ExcuseForm(forms.Form):
    mark = forms.ChoiceField(label="改为", choices=[(m.value, m.label) for m in EXCUSED], widget=forms.RadioSelect,
                             initial=Mark.SICK)
    reason = forms.CharField(label="正当原因及证明", max_length=200,
                             help_text="写明原因和证明，如：急性肠胃炎，乡卫生院病历及家长电话确认",
                             widget=forms.TextInput(attrs={"placeholder": "原因和证明"}))


IMPORT_EXTENSIONS = (".xlsx", ".xls", ".xlsm", ".csv")


class AttendanceUploadForm(forms.Form):
    file = forms.FileField(label="考勤文件", help_text="门禁或人脸识别系统导出的 .xlsx 或 .csv，表头在第1行",
                           widget=forms.ClearableFileInput(attrs={"accept": ",".join(IMPORT_EXTENSIONS)}))
    # Which classes count as looked at on the file's dates: see `imports.COVERS`.
    covers = forms.ChoiceField(label="这个文件记录的是", choices=list(COVERS.items()), initial=LISTED_CLASSES,
                               widget=forms.RadioSelect,
                               error_messages={"required": "请选择这个文件记录的是哪些班级"})

    def clean_file(self):
        f = self.cleaned_data["file"]
        if not f.name.lower().endswith(IMPORT_EXTENSIONS):
            raise forms.ValidationError("不支持的文件类型：请上传 .xlsx 或 .csv 文件")
        if f.size > settings.IMPORT_MAX_BYTES:
            raise forms.ValidationError(f"文件过大（{f.size / 1024 / 1024:.1f} MB），上限为 "
                                        f"{settings.IMPORT_MAX_BYTES // 1024 // 1024} MB")
        return f
