from django.urls import include, path

urlpatterns = [
    path("", include("baoxue.registry.urls_reconcile")),
    path("onsite/", include("baoxue.registry.urls_onsite")),
    path("changes/", include("baoxue.registry.urls_changes")),
    path("suspensions/", include("baoxue.registry.urls_suspensions")),
    path("graduates/", include("baoxue.registry.urls_graduates")),
]
