from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(template_name="registration/login.html", redirect_authenticated_user=True),
         name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("audit/", include("baoxue.org.urls_audit")),
    path("attendance/", include("baoxue.attendance.urls")),
    path("cases/", include("baoxue.cases.urls")),
    path("calendar/", include("baoxue.calendar.urls")),
    path("registry/", include("baoxue.registry.urls")),
    path("", include("baoxue.org.urls")),
]
