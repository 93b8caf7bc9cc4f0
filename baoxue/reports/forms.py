from django import forms

from baoxue.reports.models import RETENTION_FIELDS


class ReviewForm(forms.Form):
    remarks = forms.CharField(label="情况说明", required=False, max_length=2000,
                              widget=forms.Textarea(attrs={"rows": 5}),
                              help_text="本月控辍保学工作情况、数据说明（可不填）")


class ReturnForm(forms.Form):
    reason = forms.CharField(label="退回原因", max_length=300, widget=forms.Textarea(attrs={"rows": 3}))


class RetentionForm(forms.Form):
    graduates = forms.IntegerField(label="本届毕业生数", required=False, min_value=0)
    intake = forms.IntegerField(label="入学人数", required=False, min_value=0)
    transfers_in = forms.IntegerField(label="转入人数", required=False, min_value=0)
    transfers_out = forms.IntegerField(label="转出人数", required=False, min_value=0)
    note = forms.CharField(label="说明", required=False, max_length=300,
                           help_text="数据来源，例如：据2023年秋季招生名册")

    def __init__(self, *args, result: dict, **kwargs):
        super().__init__(*args, **kwargs)
        for item in result["inputs"]:
            field = self.fields[item["key"]]
            field.label = item["label"]
            if item["system_value"] is not None:
                field.help_text = f"系统数据：{item['system_value']}（留空即用系统数据）"
            else:
                field.help_text = item["hint"] or "系统没有这项数据，请填写"

    def values(self) -> dict:
        return {k: self.cleaned_data[k] for k in RETENTION_FIELDS}
