from django.urls import reverse


def test_it_shows_the_login_page_in_chinese(client, db):
    r = client.get(reverse("login"))
    assert r.status_code == 200
    assert "登录保学" in r.content.decode()


def test_it_sends_anonymous_users_to_login(client, db):
    r = client.get(reverse("home"))
    assert r.status_code == 302
    assert r["Location"].startswith(reverse("login"))


def test_it_logs_in_and_goes_home(client, org):
    r = client.post(reverse("login"), {"username": "t71", "password": "pw-123456"})
    assert r.status_code == 302
    assert r["Location"] == reverse("home")


def test_it_says_what_is_wrong_with_a_bad_password(client, org):
    r = client.post(reverse("login"), {"username": "t71", "password": "wrong"})
    assert "用户名或密码不正确" in r.content.decode()


def test_it_logs_out_with_a_post(login, org):
    client = login(org.head_teacher_1)
    r = client.post(reverse("logout"))
    assert r.status_code == 302
    assert client.get(reverse("home")).status_code == 302
