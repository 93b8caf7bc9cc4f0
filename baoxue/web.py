"""What every app's views share: running a service from a form, and sending an .xlsx."""

from urllib.parse import quote

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponse


def apply_service(form, call) -> bool:
    """Run a service; its ValidationError messages go onto the form's fields (or on top)."""
    try:
        with transaction.atomic():
            call()
    except ValidationError as e:
        if hasattr(e, "error_dict"):
            for field, errors in e.error_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            form.add_error(None, e)
        return False
    return True


def xlsx_response(content: bytes, filename: str) -> HttpResponse:
    """An .xlsx download under a Chinese file name, never cached (it holds personal data)."""
    response = HttpResponse(content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f"attachment; filename=\"export.xlsx\"; filename*=UTF-8''{quote(filename)}"
    response["Cache-Control"] = "no-store"
    return response


class ContentSecurityPolicyMiddleware:
    """Adds settings.CONTENT_SECURITY_POLICY to every response that has none (Django 5.2 has no
    CSP of its own). With `script-src 'self'`, a script injected into a page does not run."""

    def __init__(self, get_response):
        from django.conf import settings

        self.get_response = get_response
        self.policy = getattr(settings, "CONTENT_SECURITY_POLICY", "")

    def __call__(self, request):
        response = self.get_response(request)
        if self.policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = self.policy
        return response


def paper_response(request, paper, *, student, label: str):
    """An uploaded paper (a scan or photo, its type read from the content when it was uploaded:
    `paper.file_type`), shown inline, never cached, and its view written to the audit log. The
    caller has already checked that the user may see it (404 otherwise)."""
    from django.http import FileResponse, Http404

    from baoxue.audit.models import Action
    from baoxue.audit.services import audit_record
    from baoxue.lib.uploads import CONTENT_TYPES

    try:
        handle = paper.file.open("rb")
    except FileNotFoundError:
        raise Http404("文件已不存在")
    audit_record(actor=request.user, action=Action.VIEW, obj=paper, object_repr=label, scope_from=student,
                 note=f"查看材料：{paper.original_name}")
    response = FileResponse(handle, content_type=CONTENT_TYPES[paper.file_type])
    response["Content-Disposition"] = f"inline; filename*=UTF-8''{quote(paper.original_name)}"
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
