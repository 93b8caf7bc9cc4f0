from django.urls import path

from baoxue.reports import views_overview as views

urlpatterns = [
    path("", views.county, name="overview_county"),
    path("roll-calls/", views.roll_calls, name="overview_roll_calls"),
    path("cases/", views.cases, name="overview_cases"),
    path("township/<int:pk>/", views.township, name="overview_township"),
]
