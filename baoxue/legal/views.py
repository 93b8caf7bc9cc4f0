"""Pages of the exit condition and the township's legal steps: the county's (township's,
school's) list, one case's page with its forms, and the papers.

Reads go through `baoxue.legal.selectors` (anyone else gets a 404); each POST is one service of
`baoxue.legal.services`, whose ValidationError is shown on the form it came from.
"""


from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Max, Prefetch
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from baoxue.cases.models import Stage
from baoxue.legal import selectors, services
from baoxue.legal.forms import ApproveForm, EndForm, FileForm, FilterForm, StepForm
from baoxue.legal.models import ExitCondition, LegalPaper, LegalStep
from baoxue.org.models import School
from baoxue.web import apply_service, paper_response

EC = ExitCondition
LIST_LIMIT = 500


@login_required
def legal_list(request):
    """Dropouts of the user's scope with their exit condition and legal steps, filtered by
    school, state and step."""
    user = request.user
    if not selectors.can_see_legal(user):
        raise Http404("没有找到该页面")
    cases = selectors.legal_cases_for_user(user).filter(stage=Stage.DROPOUT)
    schools = list(School.objects.filter(pk__in=cases.values("school_id")).order_by("code"))
    form = FilterForm(request.GET or None, schools=schools)
    f = form.cleaned_data if form.is_valid() else {}
    if f.get("open") != "all":
        cases = cases.filter(is_open=True)
    if f.get("school"):
        cases = cases.filter(school__code=f["school"])
    if f.get("state") == "none":
        cases = cases.filter(exit_condition__isnull=True)
    elif f.get("state"):
        cases = cases.filter(exit_condition__state=f["state"])
    if f.get("kind") == "none":
        cases = cases.filter(legal_steps__isnull=True)
    elif f.get("kind"):
        cases = cases.filter(legal_steps__kind=f["kind"])
    cases = (cases.distinct().annotate(n_steps=Count("legal_steps", distinct=True),
                                       last_step_on=Max("legal_steps__date"))
             .select_related("student__school_class__grade", "student__residence_township", "school", "exit_condition")
             .prefetch_related(Prefetch("legal_steps", queryset=LegalStep.objects.order_by("date", "id")))
             .order_by("school__code", "dropout_on", "id"))
    rows = list(cases[:LIST_LIMIT])
    counts = [
        ("人在辍学劝返台账", len(rows)),
        ("人已申报待审批", sum(1 for c in rows if _ec_state(c) == EC.State.FILED)),
        ("人符合退出条件", sum(1 for c in rows if _ec_state(c) == EC.State.APPROVED)),
        ("人已采取依法控辍措施", sum(1 for c in rows if c.n_steps)),
    ]
    return render(request, "legal/list.html", {
        "rows": rows, "form": form, "counts": counts, "more": len(rows) >= LIST_LIMIT,
        "is_filtered": any(f.values()) if f else False,
    })


def _ec_state(case) -> str:
    ec = _exit_condition(case)
    return ec.state if ec else ""


def _exit_condition(case):
    try:
        return case.exit_condition
    except EC.DoesNotExist:
        return None


def case_context(user, case) -> dict:
    """What the case page and the block on the 13510 case page show."""
    ec = _exit_condition(case)
    steps = list(case.legal_steps.select_related("paper", "recorded_by").order_by("date", "id"))
    is_dropout = case.is_open and case.stage == Stage.DROPOUT
    joint = services.joint_attempts(case) if case.stage == Stage.DROPOUT else 0
    return {
        "case": case, "ec": ec, "steps": steps, "joint": joint, "min_joint": services.MIN_JOINT_ATTEMPTS,
        "is_dropout": is_dropout,
        "can_file": is_dropout and selectors.can_file(user, case)
        and (ec is None or ec.state in (EC.State.REFUSED, EC.State.WITHDRAWN)),
        "can_approve": ec is not None and ec.state == EC.State.FILED and selectors.can_approve(user, case),
        "can_withdraw": ec is not None and ec.state in (EC.State.FILED, EC.State.APPROVED)
        and selectors.can_file(user, case),
        "can_step": is_dropout and selectors.can_record_step(user, case),
    }


def _forms(request, case, **bound) -> dict:
    township = case.student.residence_township
    today = timezone.localdate()
    return {
        "file_form": bound.get("file_form") or FileForm(initial={"on": today, "ground": EC.Ground.JOINT},
                                                        prefix="file"),
        "approve_form": bound.get("approve_form") or ApproveForm(initial={"on": today}, prefix="approve"),
        "refuse_form": bound.get("refuse_form") or EndForm(prefix="refuse"),
        "withdraw_form": bound.get("withdraw_form") or EndForm(prefix="withdraw"),
        "step_form": bound.get("step_form") or StepForm(initial={"date": today, "issued_by": (
            f"{township.name}人民政府" if township else "")}, prefix="step"),
        "open_form": bound.get("open_form", ""),
    }


def _page(request, case, status=200, **bound):
    context = case_context(request.user, case)
    context.update(_forms(request, case, **bound))
    context["student"] = case.student
    return render(request, "legal/case.html", context, status=status)


@never_cache
@login_required
def legal_case(request, pk):
    case = selectors.get_legal_case_for_user(request.user, pk)
    return _page(request, case)


@never_cache
@login_required
@require_POST
def legal_act(request, pk, action):
    """One step on the case's legal page."""
    user = request.user
    case = selectors.get_legal_case_for_user(user, pk)
    ctx = case_context(user, case)
    allowed = {"file": ctx["can_file"], "approve": ctx["can_approve"], "refuse": ctx["can_approve"],
               "withdraw": ctx["can_withdraw"], "step": ctx["can_step"]}
    if not allowed.get(action):
        raise Http404("没有找到该页面")
    ec = ctx["ec"]
    if action == "file":
        form = FileForm(request.POST, request.FILES, prefix="file")
        if form.is_valid() and apply_service(form, lambda: services.exit_condition_file(
                actor=user, case=case, **form.cleaned_data)):
            return _back(request, case, "已申报义务教育有保障退出条件，待县级审批")
        return _page(request, case, 400, file_form=form, open_form="file")
    if action == "approve":
        form = ApproveForm(request.POST, request.FILES, prefix="approve")
        if form.is_valid() and apply_service(form, lambda: services.exit_condition_approve(
                actor=user, ec=ec, **form.cleaned_data)):
            return _back(request, case, "已登记审批：该生认定符合退出条件，仍在辍学劝返台账中跟进")
        return _page(request, case, 400, approve_form=form, open_form="approve")
    if action in ("refuse", "withdraw"):
        form = EndForm(request.POST, prefix=action)
        state = EC.State.REFUSED if action == "refuse" else EC.State.WITHDRAWN
        if form.is_valid() and apply_service(form, lambda: services.exit_condition_end(
                actor=user, ec=ec, state=state, reason=form.cleaned_data["reason"])):
            return _back(request, case, f"已登记：{EC.State(state).label}")
        return _page(request, case, 400, **{f"{action}_form": form, "open_form": action})
    form = StepForm(request.POST, request.FILES, prefix="step")
    if form.is_valid() and apply_service(form, lambda: services.legal_step_record(
            actor=user, case=case, **form.cleaned_data)):
        return _back(request, case, f"已记录：{LegalStep.Kind(form.cleaned_data['kind']).label}")
    return _page(request, case, 400, step_form=form, open_form="step")


def _back(request, case, text):
    messages.success(request, text)
    return redirect(reverse("legal_case", args=[case.pk]))


@login_required
def legal_file(request, pk):
    """One paper, only to those who see the case's legal page; every view is in the audit log."""
    try:
        paper = LegalPaper.objects.select_related("case__student").get(pk=pk)
    except (LegalPaper.DoesNotExist, ValueError):
        raise Http404("没有找到该文件")
    case = selectors.get_legal_case_for_user(request.user, paper.case_id)
    return paper_response(request, paper, student=case.student, label=f"{case.student.name}：{paper.get_kind_display()}")
