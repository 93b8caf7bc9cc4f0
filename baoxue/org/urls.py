from django.urls import path

from baoxue.org import views

urlpatterns = [
    path("", views.home, name="home"),
    path("schools/<str:code>/", views.school_detail, name="school_detail"),
    path("schools/<str:code>/leadership/", views.leadership_edit, name="leadership_edit"),
    path("schools/<str:code>/import/", views.import_upload, name="import_upload"),
    path("schools/<str:code>/import/<int:batch_pk>/", views.import_preview, name="import_preview"),
    path("schools/<str:code>/import/<int:batch_pk>/problems.xlsx", views.import_problems, name="import_problems"),
    path("schools/<str:code>/import/<int:batch_pk>/confirm/", views.import_confirm, name="import_confirm"),
    path("schools/<str:code>/import/<int:batch_pk>/cancel/", views.import_cancel, name="import_cancel"),
    path("classes/<int:pk>/", views.class_detail, name="class_detail"),
    path("students/", views.student_list, name="student_list"),
    path("students/export.xlsx", views.student_export, name="student_export"),
    path("students/<int:pk>/", views.student_detail, name="student_detail"),
    path("students/<int:pk>/reveal-id/", views.student_reveal_id, name="student_reveal_id"),
    path("students/<int:pk>/edit/", views.student_edit, name="student_edit"),
    path("students/<int:pk>/family/add/", views.family_add, name="family_add"),
    path("students/<int:pk>/family/<int:member_pk>/edit/", views.family_edit, name="family_edit"),
    path("students/<int:pk>/family/<int:member_pk>/delete/", views.family_delete, name="family_delete"),
    path("students/<int:pk>/key-groups/add/", views.key_group_add, name="key_group_add"),
    path("students/<int:pk>/key-groups/<int:membership_pk>/end/", views.key_group_end, name="key_group_end"),
]
