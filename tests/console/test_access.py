"""Who may open the console and call the API with a session; its headers and CSRF."""

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.test import Client

from searchindex.models import Synonym

pytestmark = pytest.mark.django_db

PAGES = [
    "/console/",
    "/console/rules/",
    "/console/synonyms/",
    "/console/analytics/",
    "/console/inspect/",
]


def test_every_console_page_is_checked():
    from django.urls import reverse

    from console.urls import urlpatterns

    assert {reverse(f"console:{p.name}") for p in urlpatterns} == set(PAGES)


@pytest.fixture
def staff(db):
    return get_user_model().objects.create_user("staff", password="pw-staff-123", is_staff=True)


@pytest.fixture
def staff_client(staff) -> Client:
    client = Client()
    client.force_login(staff, backend="django.contrib.auth.backends.ModelBackend")
    return client


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_visitor_is_sent_to_the_admin_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/admin/login/?next={path}"


@pytest.mark.parametrize("path", PAGES)
def test_signed_in_non_staff_is_refused(client, path):
    user = get_user_model().objects.create_user("shopper", password="pw-shopper-123")
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    response = client.get(path)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


@pytest.mark.parametrize("path", PAGES)
def test_console_pages_send_a_csp_without_inline_scripts(staff_client, path):
    response = staff_client.get(path)
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    assert response["Cache-Control"] == "no-store"


def test_console_is_not_served_where_the_admin_is_not(staff_client, settings):
    settings.ADMIN_ENABLED = False
    assert staff_client.get("/console/").status_code == 404


def test_a_synonym_post_without_csrf_token_is_refused_and_stores_nothing(staff):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff, backend="django.contrib.auth.backends.ModelBackend")
    before = Synonym.objects.count()
    response = client.post("/console/synonyms/", {"terms": "soda, pop", "enabled": "on"})
    assert response.status_code == 403
    assert Synonym.objects.count() == before


def test_a_synonym_added_in_the_console_is_stored_and_logged_like_the_admin(staff, settings):
    staff.is_superuser = True
    staff.save()
    client = Client()
    client.force_login(staff, backend="django.contrib.auth.backends.ModelBackend")
    response = client.post("/console/synonyms/", {"terms": "soda, pop", "enabled": "on"})
    assert response.status_code == 302
    synonym = Synonym.objects.get(terms="soda, pop")
    entry = LogEntry.objects.get(object_id=str(synonym.pk))
    assert entry.user_id == staff.pk
    assert entry.is_addition()


def test_a_synonym_needs_the_add_permission(staff_client):
    before = Synonym.objects.count()
    response = staff_client.post("/console/synonyms/", {"terms": "soda, pop", "enabled": "on"})
    assert response.status_code == 302
    assert Synonym.objects.count() == before
    assert LogEntry.objects.count() == 0


def test_an_invalid_synonym_is_shown_back_and_stores_nothing(staff):
    staff.is_superuser = True
    staff.save()
    client = Client()
    client.force_login(staff, backend="django.contrib.auth.backends.ModelBackend")
    before = Synonym.objects.count()
    response = client.post("/console/synonyms/", {"terms": "a => b", "enabled": "on"})
    assert response.status_code == 200
    assert b'role="alert"' in response.content
    assert Synonym.objects.count() == before


def test_a_staff_session_may_search_where_keys_are_required(staff_client, settings):
    settings.API_KEYS_REQUIRED = True
    # A search needs the index; the policy is decided before it, so a 503 also means "let in".
    response = staff_client.get("/api/search/suggest/", {"q": "x"})
    assert response.status_code == 400  # query_too_short: past the policy
    anonymous = Client().get("/api/search/suggest/", {"q": "x"})
    assert anonymous.status_code == 401


def test_a_non_staff_session_may_not_search_where_keys_are_required(client, settings):
    settings.API_KEYS_REQUIRED = True
    user = get_user_model().objects.create_user("shopper", password="pw-shopper-123")
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    response = client.get("/api/search/suggest/", {"q": "x"})
    assert response.status_code == 403


def test_make_run_gets_a_local_staff_user_once_with_its_password_printed_once(settings):
    from io import StringIO

    from django.core.management import call_command

    first, second = StringIO(), StringIO()
    call_command("ensure_console_user", "--url", "http://127.0.0.1:8000", stdout=first)
    assert "http://127.0.0.1:8000/console/" in first.getvalue()
    password = first.getvalue().split("password ")[1].split()[0]
    user = get_user_model().objects.get(username="console")
    assert user.is_staff
    assert user.check_password(password)
    call_command("ensure_console_user", stdout=second)
    assert password not in second.getvalue()
    assert "exists" in second.getvalue()


def test_production_gets_no_local_staff_user(settings):
    from io import StringIO

    from django.core.management import call_command

    settings.PRODUCTION = True
    out = StringIO()
    call_command("ensure_console_user", stdout=out)
    assert "createsuperuser" in out.getvalue()
    assert not get_user_model().objects.filter(username="console").exists()


def test_analytics_says_when_elasticsearch_cannot_answer(staff_client, settings):
    from searchindex import analytics

    settings.SEARCH_ANALYTICS_URL = "http://127.0.0.1:1"  # nothing listens there
    analytics.writer_reset()
    try:
        response = staff_client.get("/console/analytics/?window=24h")
    finally:
        analytics.writer_reset()
    assert response.status_code == 200
    assert b"Elasticsearch did not answer" in response.content
    assert b'id="total-searches">0<' in response.content


def test_inspect_says_when_elasticsearch_cannot_answer(staff_client):
    from elasticsearch.dsl.connections import connections

    original = connections.get_connection()
    connections.create_connection(
        alias="default", hosts="http://127.0.0.1:1", request_timeout=1, max_retries=0
    )
    try:
        response = staff_client.get("/console/inspect/?product=1")
    finally:
        connections.add_connection("default", original)
    assert response.status_code == 200
    assert response.content.count(b"Elasticsearch did not answer") == 2
