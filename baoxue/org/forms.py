"""Forms for the organisation pages. They check input shape only; the rules live in services."""

import re

from django import forms
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from baoxue.lib.idcard import mask_id, mask_registry_no
from baoxue.org import selectors
from baoxue.org.models import (
    FamilyMember,
    KEY_GROUP_SUBTYPES,
    DisabilityPlacement,
    KeyGroup,
    KeyGroupMembership,
    RegistryStatus,
    School,
    SchoolClass,
    Student,
    Township,
)
from baoxue.org.services import FAMILY_FIELDS, STUDENT_FIELDS


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class MonthInput(forms.DateInput):
    input_type = "month"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m")


# ---------------------------------------------------------------- student list filters

class StudentFilterForm(forms.Form):
    """The filters of the student list and its export. Choices come from the students the user
    sees; a filter value outside them is invalid, and an invalid filter matches nobody (rather
    than being dropped, which would widen a list or an export beyond what was asked)."""

    q = forms.CharField(label="搜索", required=False,
                        widget=forms.TextInput(attrs={"placeholder": "姓名、拼音首字母、证件号后几位或学籍号", "type": "search"}))
    school = forms.ChoiceField(label="学校", required=False)
    grade = forms.ChoiceField(label="年级", required=False)
    # Validated against all visible classes, but the list offered is the chosen school's only,
    # so that a county-wide page does not carry hundreds of options.
    klass = forms.TypedChoiceField(label="班级", required=False, coerce=int, empty_value=None)
    group = forms.ChoiceField(label="重点群体", required=False,
                              choices=[("", "全部")] + list(KeyGroup.choices))
    status = forms.ChoiceField(label="学籍状态", required=False,
                               choices=[("", "全部")] + list(RegistryStatus.choices))

    def __init__(self, user, *args, **kwargs):
        super().__init__(*args, **kwargs)
        visible = selectors.students_for_user(user)
        schools = list(School.objects.filter(pk__in=visible.values("school_id")).order_by("code"))
        self.many_schools = len(schools) > 1
        self.fields["school"].choices = [("", "全部")] + [(str(s.pk), s.name) for s in schools]
        classes = list(SchoolClass.objects.filter(pk__in=visible.values("school_class_id"))
                       .select_related("grade", "school").order_by("school__code", "grade__order", "grade__name", "name"))
        grade_names = dict.fromkeys(name for _, name in sorted({(c.grade.order, c.grade.name) for c in classes}))
        self.fields["grade"].choices = [("", "全部")] + [(name, name) for name in grade_names]
        self.fields["klass"].choices = [("", "全部")] + [(str(c.pk), str(c)) for c in classes]
        chosen_school = self.data.get("school", "")
        if self.many_schools:
            shown = [c for c in classes if str(c.school_id) == chosen_school]
            self.fields["klass"].widget.choices = [("", "全部" if shown else "（先选学校）")] + [
                (str(c.pk), str(c)) for c in shown]

    def students(self, user):
        """The user's students narrowed by the filters."""
        if not self.is_valid():
            return Student.objects.none()
        d = self.cleaned_data
        qs = selectors.search_students(user, d["q"])
        if d["school"]:
            qs = qs.filter(school_id=d["school"])
        if d["grade"]:
            qs = qs.filter(school_class__grade__name=d["grade"])
        if d["klass"]:
            qs = qs.filter(school_class_id=d["klass"])
        if d["group"]:
            today = timezone.localdate()
            qs = qs.filter(pk__in=KeyGroupMembership.objects.filter(group=d["group"]).filter(
                current_key_group_q(today)).values("student_id"))
        if d["status"]:
            qs = qs.filter(status=d["status"])
        return qs


def current_key_group_q(today):
    """Memberships in force today (the same rule as KeyGroupMembership.is_current)."""
    return Q(ended_on__isnull=True) | Q(ended_on__gt=today)


# ---------------------------------------------------------------- student and family edits

class KeepIdentifiersMixin:
    """ID and registry numbers are never shown in full in a form: opening an edit page must
    not reveal them outside the audited reveal. Their inputs start empty with the masked value
    as a hint; left empty, the stored number is kept."""

    keep_if_blank: tuple[str, ...] = ()

    def _setup_identifiers(self):
        if not self.instance.pk:
            return
        for name in self.keep_if_blank:
            current = getattr(self.instance, name)
            field = self.fields[name]
            field.required = False
            self.initial[name] = ""
            if current:
                field.widget.attrs["placeholder"] = mask_id(current) if name == "id_number" else mask_registry_no(current)
                field.help_text = "留空则保持原号码；如需更正，请输入完整号码"

    def clean(self):
        data = super().clean()
        if self.instance.pk:
            for name in self.keep_if_blank:
                if not data.get(name):
                    data[name] = getattr(self.instance, name)
        return data


class StudentForm(KeepIdentifiersMixin, forms.ModelForm):
    keep_if_blank = ("id_number", "registry_no")

    class Meta:
        model = Student
        fields = STUDENT_FIELDS
        widgets = {
            "birth_date": DateInput(),
            "enrolled_on": MonthInput(),
            "status_since": DateInput(),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        student = self.instance
        self.fields["school_class"].queryset = student.school.classes.select_related("grade").order_by(
            "grade__order", "grade__name", "name")
        self.fields["residence_township"].queryset = Township.objects.filter(county_id=student.school.county_id)
        self.fields["enrolled_on"].input_formats = ["%Y-%m", "%Y-%m-%d"]
        self.fields["id_number"].widget.attrs["autocomplete"] = "off"
        self._setup_identifiers()


class FamilyMemberForm(KeepIdentifiersMixin, forms.ModelForm):
    keep_if_blank = ("id_number",)

    class Meta:
        model = FamilyMember
        fields = FAMILY_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._setup_identifiers()


# ---------------------------------------------------------------- key groups

def _subtype_choices():
    choices = [("", "（无）")]
    for group, subtypes in KEY_GROUP_SUBTYPES.items():
        choices.append((KeyGroup(group).label, [(s, s) for s in subtypes]))
    return choices


class KeyGroupAddForm(forms.Form):
    group = forms.ChoiceField(label="重点群体", choices=KeyGroup.choices)
    subtype = forms.ChoiceField(label="类别", required=False, choices=_subtype_choices)
    disability_level = forms.CharField(label="残疾等级", required=False, max_length=10)
    placement = forms.ChoiceField(label="安置方式", required=False,
                                  choices=[("", "（无）")] + list(DisabilityPlacement.choices))
    started_on = forms.DateField(label="开始日期", widget=DateInput())
    note = forms.CharField(label="备注", required=False, max_length=200)

    def __init__(self, *args, student: Student, **kwargs):
        super().__init__(*args, **kwargs)
        self.student = student
        self.fields["started_on"].initial = timezone.localdate()

    def clean(self):
        data = super().clean()
        group, subtype = data.get("group"), data.get("subtype")
        if group and subtype and subtype not in KEY_GROUP_SUBTYPES.get(group, []):
            self.add_error("subtype", f"“{subtype}”不是“{KeyGroup(group).label}”的类别")
        if group and group != KeyGroup.DISABLED and (data.get("placement") or data.get("disability_level")):
            self.add_error("placement", "安置方式和残疾等级只用于残疾儿童")
        if group and KeyGroupMembership.objects.filter(student=self.student, group=group, ended_on__isnull=True).exists():
            self.add_error("group", "该学生已在此重点群体中：如需更改，请先结束原记录")
        return data


class KeyGroupEndForm(forms.Form):
    ended_on = forms.DateField(label="结束日期", widget=DateInput())
    note = forms.CharField(label="原因", required=False, max_length=200)


# ---------------------------------------------------------------- leadership group

_LINE_SPLIT = re.compile(r"[\s,，、;；]+", re.UNICODE)


def _people(text: str) -> list[tuple[str, str]]:
    """One person a line: "张三 校长" or "张三，校长" → ("张三", "校长")."""
    people = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        parts = _LINE_SPLIT.split(line, maxsplit=1)
        people.append((parts[0][:50], (parts[1] if len(parts) > 1 else "")[:50]))
    return people


class LeadershipGroupForm(forms.Form):
    help = "每行一人：姓名 本职，例如“张建国 校长”"
    leaders = forms.CharField(label="组长", widget=forms.Textarea(attrs={"rows": 2}), help_text=help,
                              error_messages={"required": "请填写组长"})
    deputies = forms.CharField(label="副组长", required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text=help)
    members = forms.CharField(label="成员", required=False, widget=forms.Textarea(attrs={"rows": 6}), help_text=help)
    office_location = forms.CharField(label="办公室设在", max_length=50, initial="政教处")
    office_director = forms.CharField(label="办公室主任", max_length=50, required=False)

    @staticmethod
    def initial_from(group) -> dict:
        if group is None:
            return {"office_location": "政教处"}
        lines: dict[str, list[str]] = {"leader": [], "deputy": [], "member": []}
        for m in group.members.all():
            lines[m.position].append(f"{m.name} {m.title}".strip())
        return {
            "leaders": "\n".join(lines["leader"]), "deputies": "\n".join(lines["deputy"]),
            "members": "\n".join(lines["member"]), "office_location": group.office_location,
            "office_director": group.office_director,
        }

    def clean_leaders(self):
        people = _people(self.cleaned_data["leaders"])
        if not people:
            raise forms.ValidationError("请填写组长")
        return people

    def clean_deputies(self):
        return _people(self.cleaned_data["deputies"])

    def clean_members(self):
        return _people(self.cleaned_data["members"])

    def member_triples(self) -> list[tuple[str, str, str]]:
        d = self.cleaned_data
        return ([("leader", n, t) for n, t in d["leaders"]] + [("deputy", n, t) for n, t in d["deputies"]]
                + [("member", n, t) for n, t in d["members"]])


# ---------------------------------------------------------------- import

IMPORT_EXTENSIONS = (".xlsx", ".xls", ".xlsm", ".ods", ".csv")


class ImportUploadForm(forms.Form):
    file = forms.FileField(label="学生名册文件", help_text="学籍系统导出的 .xlsx、.xls 或 .csv，表头在第1行",
                           widget=forms.ClearableFileInput(attrs={"accept": ",".join(IMPORT_EXTENSIONS)}))
    valid_rows_only = forms.BooleanField(label="仅导入有效行", required=False,
                                         help_text="勾选后，有问题的行被跳过，其余行照常导入")

    def clean_file(self):
        f = self.cleaned_data["file"]
        name = f.name.lower()
        if not name.endswith(IMPORT_EXTENSIONS):
            raise forms.ValidationError("不支持的文件类型：请上传 .xlsx、.xls 或 .csv 文件")
        if f.size > settings.IMPORT_MAX_BYTES:
            raise forms.ValidationError(f"文件过大（{f.size / 1024 / 1024:.1f} MB），上限为 "
                                        f"{settings.IMPORT_MAX_BYTES // 1024 // 1024} MB")
        return f
