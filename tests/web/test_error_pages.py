def test_a_missing_page_is_explained_in_chinese(login, org):
    r = login(org.head_teacher_1).get(f"/students/{org.student_2.pk}/")
    assert r.status_code == 404
    html = r.content.decode()
    assert "没有找到该页面" in html and "不在您的工作范围内" in html


def test_an_expired_form_is_explained_in_chinese(org):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(org.office)
    r = client.post(f"/students/{org.student_1.pk}/reveal-id/")
    assert r.status_code == 403
    assert "页面已过期" in r.content.decode()
