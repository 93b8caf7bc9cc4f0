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


class ChineseErrorPagesMiddleware:
    """With DEBUG on (`make run DEBUG=1`), Django answers 404, 403 and 500 with its English
    technical pages; the people trying the system get the same Chinese pages as in production
    instead. The traceback of a 500 still goes to the console (Django logs it before this sees
    the response). DEBUG_ERROR_PAGES=technical keeps Django's pages for a developer."""

    TEMPLATES = {403: "403.html", 404: "404.html", 500: "500.html"}

    def __init__(self, get_response):
        import os

        from django.conf import settings

        self.get_response = get_response
        self.active = settings.DEBUG and os.environ.get("DEBUG_ERROR_PAGES", "") != "technical"

    def __call__(self, request):
        response = self.get_response(request)
        if not self.active or response.status_code not in self.TEMPLATES:
            return response
        # Only Django's technical pages (they carry this robots tag); a page of ours stays.
        if not response.get("Content-Type", "").startswith("text/html") or b"NONE,NOARCHIVE" not in response.content:
            return response
        from django.shortcuts import render
        from django.template.loader import render_to_string
        from django.http import HttpResponseServerError

        if response.status_code == 500:
            # Like Django's own server_error view: no request context (the error may be in it).
            return HttpResponseServerError(render_to_string("500.html"))
        return render(request, self.TEMPLATES[response.status_code], status=response.status_code)


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
