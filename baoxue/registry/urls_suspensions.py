from django.urls import path

from baoxue.registry.views import suspensions as views

urlpatterns: list = [
    path("", views.application_list, name="suspension_list"),
    path("new/", views.application_new, name="suspension_new"),
    path("rules/", views.rules_page, name="suspension_rules"),
    path("batch/<str:code>/<str:day>/", views.batch_print, name="suspension_batch"),
    path("files/<int:pk>/", views.application_file, name="suspension_file"),
    path("<int:pk>/", views.application_detail, name="suspension_detail"),
    path("<int:pk>/do/<str:action>/", views.application_act, name="suspension_act"),
    path("<int:pk>/form.docx", views.application_form_docx, name="suspension_form_docx"),
    path("<int:pk>/form/", views.application_form_print, name="suspension_form_print"),
]
