from django.urls import path

from baoxue.care import views

urlpatterns = [
    path("mine/", views.mine, name="care_mine"),
    path("key-groups/", views.key_groups, name="care_key_groups"),
    path("high-risk/", views.high_risk, name="care_high_risk"),
    path("cadence/", views.cadence, name="care_cadence"),
    path("students/<int:pk>/", views.student_care, name="care_student"),
    path("students/<int:pk>/<slug:action>/", views.student_act, name="care_student_act"),
]
