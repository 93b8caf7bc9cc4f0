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
