"""Forms of the 13510 pages. They check the shape of the input; the rules (a 联合劝返 needs
someone from outside the school, no attempt in the future …) live in `services`."""

import datetime
from pathlib import Path

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from baoxue.cases.forms_doc import EDITABLE_FIELDS
from baoxue.cases.models import Case, ContactRecord, DropoutCause, Outcome, PersuasionAttempt, Rules, Stage
from baoxue.org.forms import DateInput
from baoxue.org.models import Grade, KeyGroup, Role

# Units suggested for persuaders and participants (plan: 村委会, 派出所, 乡镇, 民政 join the school).
UNITS = ["学校", "村委会", "派出所", "乡镇", "民政", "妇联", "团委", "司法所"]
PARTICIPANT_ROWS = 4
ATTACHMENT_TYPES = {".jpg", ".jpeg", ".png", ".gif", ".webp", ".heic", ".pdf", ".doc", ".docx"}
ATTACHMENT_MAX_MB = 10


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


def _today():
    return timezone.localdate()


def _not_future(day: datetime.date) -> datetime.date:
    if day and day > timezone.localdate():
        raise forms.ValidationError("日期不能晚于今天")
    return day


def check_attachment(upload):
    """Photos of the visit, a signed commitment: images, PDF or Word, at most 10 MB."""
    if not upload:
        return upload
    if Path(upload.name).suffix.lower() not in ATTACHMENT_TYPES:
        raise forms.ValidationError("附件须为照片、PDF 或 Word 文件")
    if upload.size > ATTACHMENT_MAX_MB * 1024 * 1024:
        raise forms.ValidationError(f"附件不能超过 {ATTACHMENT_MAX_MB} MB")
    return upload


class PageForm(forms.Form):
    """Several forms share the case page: each gets its own element ids (contact_method,
    attempt_method …) so that a label never ticks another form's radio button."""

    id_prefix = ""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", f"{self.id_prefix}_%s")
        super().__init__(*args, **kwargs)


class ContactForm(PageForm):
    id_prefix = "contact"

    at = forms.DateTimeField(label="联系时间", widget=DateTimeInput(), input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"])
    method = forms.ChoiceField(label="方式", choices=ContactRecord.Method.choices, widget=forms.RadioSelect)
    reached = forms.CharField(label="联系到的人", max_length=50, widget=forms.TextInput(attrs={"placeholder": "例如：父亲 张大山"}))
    reason_given = forms.CharField(label="了解到的原因", max_length=200, required=False)
    result = forms.CharField(label="结果", max_length=200, required=False,
                             widget=forms.TextInput(attrs={"placeholder": "例如：家长答应明天送孩子到校"}))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"at": timezone.localtime().replace(second=0, microsecond=0), "method": "phone"})
        super().__init__(*args, **kwargs)

    def clean_at(self):
        at = self.cleaned_data["at"]
        if at > timezone.now() + datetime.timedelta(minutes=5):
            raise forms.ValidationError("联系时间不能晚于现在")
        return at


class HomeVisitForm(PageForm):
    id_prefix = "visit"
    date = forms.DateField(label="家访日期", widget=DateInput())
    visitors = forms.CharField(label="家访人员", max_length=200, widget=forms.TextInput(attrs={"placeholder": "例如：李老师、王主任"}))
    met = forms.CharField(label="见到的人", max_length=100)
    findings = forms.CharField(label="情况", widget=forms.Textarea(attrs={"rows": 3}))
    attachment = forms.FileField(label="附件（照片、承诺书）", required=False)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"date": _today()})
        super().__init__(*args, **kwargs)

    def clean_date(self):
        return _not_future(self.cleaned_data["date"])

    def cleancheck_attachment(self):
        return check_attachment(self.cleaned_data.get("attachment"))


def school_staff(school):
    """Accounts that work at the school: its memberships and its head teachers."""
    return (get_user_model().objects.filter(is_active=True)
            .filter(Q(memberships__school=school) | Q(head_of_classes__school=school))
            .exclude(memberships__role__in=[Role.COUNTY, Role.TOWNSHIP, Role.ADMIN])
            .distinct().order_by("first_name", "username"))


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        return user.get_full_name() or user.get_username()


class PersuaderForm(PageForm):
    """落实专人动员劝返: a staff account of the school, or a named outside person."""

    id_prefix = "persuader"
    user = StaffChoiceField(label="本校教职工", queryset=get_user_model().objects.none(), required=False,
                            empty_label="—— 请选择 ——", help_text="指派校外人员时不选，填写下面的姓名和单位")
    name = forms.CharField(label="姓名", max_length=50, required=False)
    unit = forms.CharField(label="单位", max_length=50, required=False,
                           widget=forms.TextInput(attrs={"list": "units", "placeholder": "村委会、派出所、乡镇、民政…"}))
    phone = forms.CharField(label="电话", max_length=30, required=False, widget=forms.TextInput(attrs={"type": "tel"}))

    def __init__(self, *args, school, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = school_staff(school)

    def clean(self):
        data = super().clean()
        user = data.get("user")
        if user:
            data["name"] = data.get("name") or user.get_full_name() or user.get_username()
            data["unit"] = data.get("unit") or "学校"
        elif not data.get("name"):
            raise forms.ValidationError("请选择本校教职工，或填写校外人员的姓名和单位")
        elif not data.get("unit"):
            self.add_error("unit", "请填写校外人员的单位")
        return data


class AttemptForm(PageForm):
    """劝返记录: a full date, the method, who took part (name and unit), what was heard, the result."""

    id_prefix = "attempt"
    date = forms.DateField(label="劝返日期", widget=DateInput())
    method = forms.ChoiceField(label="方式", choices=PersuasionAttempt.Method.choices, widget=forms.RadioSelect)
    reason_heard = forms.CharField(label="了解到的原因", max_length=200, required=False)
    result = forms.CharField(label="结果", max_length=200)
    next_step = forms.CharField(label="下一步", max_length=200, required=False)
    attachment = forms.FileField(label="附件（照片、承诺书）", required=False)

    def __init__(self, *args, actor=None, **kwargs):
        initial = {"date": _today(), "method": PersuasionAttempt.Method.HOME_VISIT}
        if actor is not None:
            initial |= {"p1_name": actor.get_full_name() or actor.get_username(), "p1_unit": "学校"}
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        for i in range(1, PARTICIPANT_ROWS + 1):
            self.fields[f"p{i}_name"] = forms.CharField(label=f"参与人员{i} 姓名", max_length=50, required=False,
                                                        widget=forms.TextInput(attrs={"placeholder": "姓名"}))
            self.fields[f"p{i}_unit"] = forms.CharField(
                label=f"参与人员{i} 单位", max_length=50, required=False,
                widget=forms.TextInput(attrs={"list": "units", "placeholder": "单位"}))

    def participant_rows(self):
        return [(self[f"p{i}_name"], self[f"p{i}_unit"]) for i in range(1, PARTICIPANT_ROWS + 1)]

    def participants(self) -> list[dict]:
        d = self.cleaned_data
        return [{"name": d.get(f"p{i}_name", ""), "unit": d.get(f"p{i}_unit", "")} for i in range(1, PARTICIPANT_ROWS + 1)]

    def cleancheck_attachment(self):
        return check_attachment(self.cleaned_data.get("attachment"))


class DatedNoteForm(PageForm):
    on = forms.DateField(label="日期", widget=DateInput())
    note = forms.CharField(label="说明", max_length=200, required=False)

    def __init__(self, *args, case: Case, **kwargs):
        kwargs.setdefault("initial", {"on": _today()})
        super().__init__(*args, **kwargs)
        self.case = case

    def clean_on(self):
        on = _not_future(self.cleaned_data["on"])
        if on < self.case.first_absent_on:
            raise forms.ValidationError("日期不能早于首次缺勤日")
        return on


class MissingForm(DatedNoteForm):
    """失踪失联: straight to the dropout ledger."""

    id_prefix = "missing"
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["note"].required = True
        self.fields["note"].widget.attrs["placeholder"] = "例如：电话停机，家中无人，村委会也联系不上"


class ResumeForm(DatedNoteForm):
    """复学: a dropout is back at school."""

    id_prefix = "resume"
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["on"].label = "复学日期"


class CloseForm(DatedNoteForm):
    """销账 with an outcome other than the automatic ones (返校 is found by the roll call,
    复学 has its own step)."""

    id_prefix = "close"
    outcome = forms.ChoiceField(label="结果")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [Outcome.TRANSFERRED, Outcome.OTHER]
        if self.case.stage != Stage.DROPOUT:
            choices.insert(0, Outcome.RETURNED)
        self.fields["outcome"].choices = [(c.value, c.label) for c in choices]
        self.fields["on"].label = "销账日期"
        self.fields["note"].required = True
        self.order_fields(["outcome", "on", "note"])


class DropoutFormEditForm(forms.Form):
    """The free-text parts of the 一生一表 (the rest is taken from the records)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for key, label in EDITABLE_FIELDS:
            self.fields[key] = forms.CharField(label=label, required=False, widget=forms.Textarea(attrs={"rows": 3}))


class RulesForm(forms.Form):
    """The county's thresholds; their order is checked by `rules_change`."""

    contact_day = forms.IntegerField(label=Rules._meta.get_field("contact_day").verbose_name, min_value=1, max_value=60)
    visit_day = forms.IntegerField(label=Rules._meta.get_field("visit_day").verbose_name, min_value=1, max_value=60)
    suspect_day = forms.IntegerField(label=Rules._meta.get_field("suspect_day").verbose_name, min_value=1, max_value=60)
    persuasion_working_days = forms.IntegerField(label=Rules._meta.get_field("persuasion_working_days").verbose_name,
                                                 min_value=1, max_value=60)
    min_attempts = forms.IntegerField(label=Rules._meta.get_field("min_attempts").verbose_name, min_value=1, max_value=20)
    observation_terms = forms.IntegerField(label=Rules._meta.get_field("observation_terms").verbose_name,
                                           min_value=0, max_value=6, required=False)
    repeat_absent_days = forms.IntegerField(label=Rules._meta.get_field("repeat_absent_days").verbose_name,
                                            min_value=1, max_value=60, required=False)
    repeat_window_days = forms.IntegerField(label=Rules._meta.get_field("repeat_window_days").verbose_name,
                                            min_value=1, max_value=120, required=False)


# ---------------------------------------------------------------- ledger filters

class LedgerFilterForm(forms.Form):
    """Filters of both ledgers and their exports; the choices come from the user's scope."""

    school = forms.ChoiceField(label="学校", required=False)
    grade = forms.ChoiceField(label="年级", required=False)
    state = forms.ChoiceField(label="状态", required=False, choices=[("", "全部"), ("open", "未销账"), ("closed", "已销账")])
    stage = forms.ChoiceField(label="阶段", required=False,
                              choices=[("", "全部"), (Stage.SUSPECTED_DROPOUT, "仍在疑似辍学台账"),
                                       (Stage.DROPOUT, "已转入辍学台账")])
    cause = forms.ChoiceField(label="纳入原因", required=False, choices=[("", "全部")] + list(DropoutCause.choices))
    start = forms.DateField(label="起始日期", required=False, widget=DateInput())
    end = forms.DateField(label="截止日期", required=False, widget=DateInput())
    group = forms.ChoiceField(label="重点群体", required=False, choices=[("", "全部")] + list(KeyGroup.choices))

    def __init__(self, *args, cases, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        from baoxue.org.models import School

        schools = list(School.objects.filter(pk__in=cases.values("school_id")).order_by("code"))
        self.many_schools = len(schools) > 1
        self.fields["school"].choices = [("", "全部")] + [(str(s.pk), s.name) for s in schools]
        grades = Grade.objects.filter(school__in=schools).order_by("order", "name").values_list("name", flat=True)
        self.fields["grade"].choices = [("", "全部")] + [(g, g) for g in dict.fromkeys(grades)]
        date_label = "纳入台账日期" if kind == "suspected" else "辍学日期"
        self.fields["start"].label = f"{date_label}从"
        self.fields["end"].label = "到"
        if kind == "suspected":
            del self.fields["cause"]
        else:
            del self.fields["stage"]
        self.kind = kind

    @property
    def is_filtered(self) -> bool:
        return self.is_bound and self.is_valid() and any(self.cleaned_data.values())

    def filter(self, cases):
        """The cases narrowed by the valid filters (an invalid value is ignored)."""
        if not self.is_bound or not self.is_valid():
            return cases
        d = self.cleaned_data
        date_field = "suspected_on" if self.kind == "suspected" else "dropout_on"
        if d["school"]:
            cases = cases.filter(school_id=d["school"])
        if d["grade"]:
            cases = cases.filter(student__school_class__grade__name=d["grade"])
        if d["state"]:
            cases = cases.filter(is_open=d["state"] == "open")
        if d.get("stage"):
            cases = cases.filter(stage=d["stage"]) if d["stage"] == Stage.DROPOUT else cases.exclude(stage=Stage.DROPOUT)
        if d.get("cause"):
            cases = cases.filter(dropout_cause=d["cause"])
        if d["start"]:
            cases = cases.filter(**{f"{date_field}__gte": d["start"]})
        if d["end"]:
            cases = cases.filter(**{f"{date_field}__lte": d["end"]})
        if d["group"]:
            from baoxue.org.forms import current_key_group_q
            from baoxue.org.models import KeyGroupMembership

            members = KeyGroupMembership.objects.filter(current_key_group_q(_today()), group=d["group"])
            cases = cases.filter(student_id__in=members.values("student_id"))
        return cases
