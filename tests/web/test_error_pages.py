"""Error pages in Chinese in every mode `make run` starts (DEBUG on or off), and a favicon."""

import pytest
from django.test import Client, override_settings
from django.urls import path

from baoxue import urls as project_urls


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


def broken(request):
    raise RuntimeError("boom")


urlpatterns = project_urls.urlpatterns + [path("test-broken/", broken)]


@pytest.fixture
def debug_client(settings):
    settings.DEBUG = True
    settings.ROOT_URLCONF = __name__
    return Client(raise_request_exception=False)


@pytest.mark.django_db
def test_it_answers_an_unknown_address_in_chinese_with_debug_on(debug_client):
    response = debug_client.get("/no-such-page/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "没有找到该页面" in body and "Page not found" not in body and "URLconf" not in body


@pytest.mark.django_db
def test_it_answers_a_crash_in_chinese_with_debug_on(debug_client):
    response = debug_client.get("/test-broken/")
    assert response.status_code == 500
    body = response.content.decode()
    assert "系统出错了" in body and "Traceback" not in body and "boom" not in body


@pytest.mark.django_db
@override_settings(DEBUG=False)
def test_it_answers_in_chinese_with_debug_off(client):
    assert "没有找到该页面" in client.get("/no-such-page/").content.decode()


def test_a_developer_may_keep_the_technical_pages(settings, monkeypatch):
    from baoxue.web import ChineseErrorPagesMiddleware

    settings.DEBUG = True
    monkeypatch.setenv("DEBUG_ERROR_PAGES", "technical")
    assert not ChineseErrorPagesMiddleware(lambda r: None).active


@pytest.mark.django_db
def test_the_favicon_is_there(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("baoxue/favicon.svg")


@pytest.mark.django_db
def test_our_own_expired_form_page_stays_with_debug_on(org, settings):
    settings.DEBUG = True
    client = Client(enforce_csrf_checks=True)
    client.force_login(org.office)
    r = client.post(f"/students/{org.student_1.pk}/reveal-id/")
    assert r.status_code == 403 and "页面已过期" in r.content.decode()
