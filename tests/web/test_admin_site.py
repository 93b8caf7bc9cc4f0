from django.urls import reverse

from baoxue.audit.services import audit_record


def test_the_admin_is_for_superusers_only(client, org):
    org.office.is_staff = True
    org.office.save()
    client.force_login(org.office)
    assert client.get(reverse("admin:index")).status_code == 302
    client.force_login(org.admin)
    assert client.get(reverse("admin:index")).status_code == 200


def test_audit_entries_are_read_only_in_the_admin(client, org):
    entry = audit_record(actor=org.office, action="update", obj=org.student_1)
    client.force_login(org.admin)
    assert client.get(reverse("admin:audit_auditentry_changelist")).status_code == 200
    r = client.post(reverse("admin:audit_auditentry_delete", args=[entry.pk]), {"post": "yes"})
    assert r.status_code == 403
    assert client.get(reverse("admin:audit_auditentry_add")).status_code == 403


def test_students_are_read_only_in_the_admin(client, org):
    client.force_login(org.admin)
    assert client.get(reverse("admin:org_student_change", args=[org.student_1.pk])).status_code == 200
    r = client.post(reverse("admin:org_student_change", args=[org.student_1.pk]), {"name": "改名"})
    assert r.status_code == 403
