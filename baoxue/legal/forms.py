from django import forms

from baoxue.legal.models import ExitCondition, LegalStep
from baoxue.lib.uploads import ACCEPTED_LABEL
from baoxue.org.forms import DateInput

EC = ExitCondition
UPLOAD_HELP = f"扫描件或照片（{ACCEPTED_LABEL}，按文件内容判断类型）"


def _upload(label: str, required: bool = False) -> forms.FileField:
    return forms.FileField(label=label, required=required, help_text=UPLOAD_HELP,
                           widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png,image/*"}))


class FileForm(forms.Form):
    ground = forms.ChoiceField(label="依据", choices=EC.Ground.choices, widget=forms.RadioSelect)
    on = forms.DateField(label="申报日期", widget=DateInput())
    court = forms.CharField(label="判决法院", max_length=100, required=False, help_text="依据为法院判决时填写")
    judgment_on = forms.DateField(label="判决日期", required=False, widget=DateInput())
    judgment_no = forms.CharField(label="判决书案号", max_length=100, required=False,
                                  widget=forms.TextInput(attrs={"placeholder": "如：（2025）豫0999民初123号"}))
    upload = _upload("法院判决书")
    note = forms.CharField(label="说明", max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ApproveForm(forms.Form):
    approver = forms.ChoiceField(label="审批机关", choices=[("", "请选择")] + list(EC.Approver.choices))
    on = forms.DateField(label="审批日期", widget=DateInput())
    approval_no = forms.CharField(label="审批文号", max_length=100)
    upload = _upload("审批文件（可选）")


class EndForm(forms.Form):
    reason = forms.CharField(label="原因", max_length=300, widget=forms.Textarea(attrs={"rows": 2}))


class StepForm(forms.Form):
    kind = forms.ChoiceField(label="措施", choices=[("", "请选择")] + list(LegalStep.Kind.choices))
    date = forms.DateField(label="日期", widget=DateInput())
    issued_by = forms.CharField(label="实施单位", max_length=100)
    doc_no = forms.CharField(label="文书编号", max_length=100, required=False)
    upload = _upload("文书", required=False)
    note = forms.CharField(label="情况说明", max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 2}))


class FilterForm(forms.Form):
    school = forms.ChoiceField(label="学校", required=False)
    state = forms.ChoiceField(label="退出条件", required=False,
                              choices=[("", "全部"), ("none", "未申报")] + list(EC.State.choices))
    kind = forms.ChoiceField(label="已采取措施", required=False,
                             choices=[("", "全部"), ("none", "未采取")] + list(LegalStep.Kind.choices))
    open = forms.ChoiceField(label="台账", required=False, choices=[("", "未销账"), ("all", "含已销账")])

    def __init__(self, *args, schools=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"].choices = [("", "全部学校")] + [(s.code, s.name) for s in schools]
        self.many_schools = len(schools) > 1
