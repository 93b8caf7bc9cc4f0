from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from baoxue.lib.uploads import ACCEPTED_LABEL
from baoxue.org.forms import DateInput
from baoxue.org.models import DisabilityPlacement
from baoxue.special.models import SpecialFile

ACCEPT = "image/*,application/pdf"


def staff_of(school):
    """Accounts of the school's staff: a role there, or a class's head teacher."""
    User = get_user_model()
    return (User.objects.filter(Q(memberships__school=school) | Q(head_of_classes__school=school))
            .distinct().order_by("first_name", "username"))


class StaffChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.get_username()


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several photos from one input (the pattern of Django's documentation)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ACCEPT}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, (list, tuple)):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


class PlacementForm(forms.Form):
    decided_on = forms.DateField(label="决定日期", widget=DateInput())
    placement = forms.ChoiceField(label="安置方式", widget=forms.RadioSelect, choices=DisabilityPlacement.choices)
    basis = forms.CharField(label="依据", max_length=300, widget=forms.Textarea(attrs={"rows": 2}),
                            help_text="如：县残疾人教育专家委员会评估意见（2025年8月20日）")
    upload = forms.FileField(label="依据材料（可选）", required=False, widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
                             help_text=f"{ACCEPTED_LABEL}，扫描件或照片")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "placement")
        kwargs.setdefault("initial", {"decided_on": timezone.localdate()})
        super().__init__(*args, **kwargs)


class PlanForm(forms.Form):
    school_year = forms.CharField(label="学年", max_length=9, help_text="例如 2025-2026")
    start_on = forms.DateField(label="开始日期", widget=DateInput())
    end_on = forms.DateField(label="结束日期", widget=DateInput())
    visits_per_week = forms.IntegerField(label="每周送教（次）", min_value=1, max_value=7)
    hours_per_visit = forms.DecimalField(label="每次课时", min_value=0.5, max_value=8, decimal_places=1)
    hours_per_year = forms.IntegerField(label="本学年目标课时（可选）", min_value=1, required=False,
                                        help_text="不填则按县里的规定；高于县定时以计划为准")
    teachers = StaffChoice(label="送教教师（本校账号）", queryset=None, required=False,
                           widget=forms.CheckboxSelectMultiple)
    teacher_names = forms.CharField(label="其他送教人员", max_length=200, required=False,
                                    help_text="没有账号的教师、康复人员等")

    def __init__(self, *args, school, **kwargs):
        kwargs.setdefault("prefix", "plan")
        super().__init__(*args, **kwargs)
        self.fields["teachers"].queryset = staff_of(school)


class VisitForm(forms.Form):
    date = forms.DateField(label="送教日期", widget=DateInput())
    hours = forms.DecimalField(label="课时", min_value=0.5, max_value=8, decimal_places=1,
                               widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.5"}))
    content = forms.CharField(label="送教内容", max_length=500, widget=forms.Textarea(attrs={"rows": 3}),
                              help_text="如：生活自理训练、识字、康复训练")
    teachers = StaffChoice(label="送教教师", queryset=None, required=False, widget=forms.CheckboxSelectMultiple)
    teacher_names = forms.CharField(label="其他送教人员", max_length=200, required=False)
    signature = forms.FileField(label="监护人签字（拍照）", required=False,
                                widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
                                help_text="监护人在送教记录上签字后拍照上传；可稍后补传")
    photos = MultipleFileField(label="送教照片（可多张）", required=False, help_text=f"{ACCEPTED_LABEL}")

    def __init__(self, *args, plan, user, **kwargs):
        kwargs.setdefault("prefix", "visit")
        initial = {"date": timezone.localdate(), "hours": plan.hours_per_visit, "teacher_names": plan.teacher_names}
        on_plan = list(plan.teachers.all())
        initial["teachers"] = [user.pk] if any(t.pk == user.pk for t in on_plan) else [t.pk for t in on_plan]
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        # The plan's teachers, and the one recording when they are staff (a substitute): a short
        # list of checkboxes on a phone. Others go in by name.
        self.fields["teachers"].queryset = staff_of(plan.school).filter(
            Q(pk__in=[t.pk for t in on_plan]) | Q(pk=user.pk))


class VisitFileForm(forms.Form):
    kind = forms.ChoiceField(label="类别", widget=forms.RadioSelect,
                             choices=[(SpecialFile.Kind.SIGNATURE, "监护人签字"), (SpecialFile.Kind.PHOTO, "送教照片")])
    upload = forms.FileField(label="选择文件", widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
                             help_text=ACCEPTED_LABEL)


class SettingsForm(forms.Form):
    visits_per_week = forms.IntegerField(label="每周至少送教（次）", min_value=1, max_value=7)
    hours_per_year = forms.IntegerField(label="每学年至少送教（课时）", min_value=1)
