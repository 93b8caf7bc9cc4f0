from django import forms
from django.utils import timezone

from baoxue.care.models import CareForm, RiskMark
from baoxue.org.forms import DateInput


def _today():
    return timezone.localdate()


class RiskMarkForm(forms.Form):
    kind = forms.ChoiceField(label="原因类别", choices=RiskMark.Kind.choices)
    reason = forms.CharField(label="具体原因", max_length=300, widget=forms.Textarea(attrs={"rows": 2}))
    marked_on = forms.DateField(label="列入日期", widget=DateInput(), initial=_today)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "mark")
        super().__init__(*args, **kwargs)


class EndForm(forms.Form):
    ended_on = forms.DateField(label="日期", widget=DateInput(), initial=_today)
    note = forms.CharField(label="说明", max_length=200, required=False)


class PlanForm(forms.Form):
    plan = forms.CharField(label="帮扶计划", required=False, widget=forms.Textarea(attrs={"rows": 4}),
                           help_text="目标、措施、分工和时间安排")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "plan")
        super().__init__(*args, **kwargs)


class AssignForm(forms.Form):
    mentor = forms.ModelChoiceField(label="帮扶教师", queryset=None, empty_label="请选择本校教师")
    started_on = forms.DateField(label="开始日期", widget=DateInput(), initial=_today)

    def __init__(self, *args, staff, **kwargs):
        kwargs.setdefault("prefix", "assign")
        super().__init__(*args, **kwargs)
        self.fields["mentor"].queryset = staff
        self.fields["mentor"].label_from_instance = lambda u: u.get_full_name() or u.get_username()


class RecordForm(forms.Form):
    date = forms.DateField(label="日期", widget=DateInput(), initial=_today)
    form = forms.ChoiceField(label="形式", choices=CareForm.choices)
    content = forms.CharField(label="内容", widget=forms.Textarea(attrs={"rows": 3}))
    next_step = forms.CharField(label="下一步", max_length=300, required=False)
    referral_outcome = forms.CharField(label="转介结果", max_length=300, required=False,
                                       help_text="仅心理咨询转介：结果未知可以以后补填")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "rec")
        super().__init__(*args, **kwargs)


class OutcomeForm(forms.Form):
    outcome = forms.CharField(label="转介结果", max_length=300)


class CadenceForm(forms.Form):
    per_term = forms.BooleanField(label="每学期一次", required=False)
    every_weeks = forms.IntegerField(label="每几周一次", min_value=1, max_value=52, required=False,
                                     help_text="每月一次填 4")
    what = forms.CharField(label="工作内容", max_length=50)
    counts_as = forms.MultipleChoiceField(label="哪些帮扶记录算作完成", choices=CareForm.choices, required=False,
                                      widget=forms.CheckboxSelectMultiple, help_text="都不选：任何帮扶记录都算")
