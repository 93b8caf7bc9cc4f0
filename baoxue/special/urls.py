from django.urls import path

from baoxue.special import views

urlpatterns: list = [
    path("", views.student_list, name="special_list"),
    path("settings/", views.settings_page, name="special_settings"),
    path("students/<int:pk>/", views.student_detail, name="special_student"),
    path("students/<int:pk>/placement/", views.placement_add, name="special_placement"),
    path("students/<int:pk>/plan/", views.plan_save, name="special_plan"),
    path("plans/<int:pk>/visits/new/", views.visit_new, name="special_visit_new"),
    path("visits/<int:pk>/files/", views.visit_file_add, name="special_visit_file"),
    path("files/<int:pk>/", views.file_view, name="special_file"),
]
