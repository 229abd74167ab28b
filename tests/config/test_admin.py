"""The admin lets in staff only; everyone else is sent to its login page."""

import pytest
from django.contrib.auth import get_user_model

pytestmark = pytest.mark.django_db


def make_user(*, is_staff: bool):
    return get_user_model().objects.create_user(
        username=f"user-staff-{is_staff}", password="pw-for-tests", is_staff=is_staff
    )


def test_admin_redirects_an_anonymous_visitor_to_login(client):
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_admin_redirects_a_logged_in_non_staff_user_to_login(client):
    client.force_login(make_user(is_staff=False))
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    follow = client.get("/admin/catalog/product/")
    assert follow.status_code == 302
    assert follow["Location"].startswith("/admin/login/")


def test_admin_login_refuses_a_non_staff_user_with_the_right_password(client):
    make_user(is_staff=False)
    response = client.post(
        "/admin/login/", {"username": "user-staff-False", "password": "pw-for-tests"}
    )
    assert response.status_code == 200  # the form again, with an error
    assert "_auth_user_id" not in client.session


def test_admin_lets_staff_in(client):
    client.force_login(make_user(is_staff=True))
    assert client.get("/admin/").status_code == 200
