from django.urls import path

from baoxue.cases import views

urlpatterns = [
    path("", views.index, name="cases_index"),
    path("inbox/", views.inbox, name="cases_inbox"),
    path("reports/<int:pk>/read/", views.report_read, name="cases_report_read"),
    path("ledger/suspected/", views.ledger_page, {"kind": "suspected"}, name="cases_ledger_suspected"),
    path("ledger/suspected.xlsx", views.ledger_export, {"kind": "suspected"}, name="cases_ledger_suspected_xlsx"),
    path("ledger/dropout/", views.ledger_page, {"kind": "dropout"}, name="cases_ledger_dropout"),
    path("ledger/dropout.xlsx", views.ledger_export, {"kind": "dropout"}, name="cases_ledger_dropout_xlsx"),
    path("rules/", views.rules, name="cases_rules"),
    path("<int:pk>/", views.case_detail, name="case_detail"),
    path("<int:pk>/contact/", views.contact_add, name="case_contact_add"),
    path("<int:pk>/visit/", views.visit_add, name="case_visit_add"),
    path("<int:pk>/persuader/", views.persuader_add, name="case_persuader_add"),
    path("<int:pk>/attempt/", views.attempt_add, name="case_attempt_add"),
    path("<int:pk>/missing/", views.mark_missing, name="case_mark_missing"),
    path("<int:pk>/resume/", views.resume, name="case_resume"),
    path("<int:pk>/close/", views.close, name="case_close"),
    path("<int:pk>/files/<str:kind>/<int:item_pk>/", views.attachment, name="case_attachment"),
    path("<int:pk>/form/", views.form_print, name="case_form"),
    path("<int:pk>/form.docx", views.form_docx_download, name="case_form_docx"),
    path("<int:pk>/form/edit/", views.form_edit, name="case_form_edit"),
]
