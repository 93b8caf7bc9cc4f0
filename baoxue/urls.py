from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic.base import RedirectView

from baoxue.org import signin

urlpatterns = [
    # Browsers ask for /favicon.ico whatever the page says.
    path("favicon.ico", RedirectView.as_view(url=static("baoxue/favicon.svg"), permanent=True)),
    path("login/", signin.SigninView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", signin.PasswordChangeView.as_view(), name="password_change"),
    path("admin/", admin.site.urls),
    path("audit/", include("baoxue.org.urls_audit")),
    path("attendance/", include("baoxue.attendance.urls")),
    path("cases/", include("baoxue.cases.urls")),
    path("calendar/", include("baoxue.calendar.urls")),
    path("registry/", include("baoxue.registry.urls")),
    path("special/", include("baoxue.special.urls")),
    path("care/", include("baoxue.care.urls")),
    path("legal/", include("baoxue.legal.urls")),
    path("reports/", include("baoxue.reports.urls")),
    path("overview/", include("baoxue.reports.urls_overview")),
    path("notify/", include("baoxue.notify.urls")),
    path("", include("baoxue.org.urls")),
]
