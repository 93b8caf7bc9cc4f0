from django.urls import path

from baoxue.legal import views

urlpatterns: list = [
    path("", views.legal_list, name="legal_list"),
    path("case/<int:pk>/", views.legal_case, name="legal_case"),
    path("case/<int:pk>/do/<str:action>/", views.legal_act, name="legal_act"),
    path("files/<int:pk>/", views.legal_file, name="legal_file"),
]
