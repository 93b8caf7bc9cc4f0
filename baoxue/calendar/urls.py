from django.urls import path

from baoxue.calendar import views

urlpatterns = [
    path("", views.calendar_home, name="calendar_home"),
    path("year/", views.year_set, name="calendar_year_set"),
    path("closures/", views.closure_add, name="calendar_closure_add"),
    path("closures/<int:pk>/remove/", views.closure_remove, name="calendar_closure_remove"),
    path("terms/", views.term_create, name="calendar_term_add"),
]
