"""The app's URL map plus one plain Django view that fails, for the raw-500 tests."""

from django.db import OperationalError
from django.http import HttpRequest, HttpResponse
from django.urls import path

from config.urls import urlpatterns as app_urlpatterns

handler400 = "config.errors.json_bad_request"
handler403 = "config.errors.json_permission_denied"
handler404 = "config.errors.json_not_found"
handler500 = "config.errors.json_server_error"

SECRET_DETAIL = "internal detail that must never reach a client"


def broken_view(request: HttpRequest) -> HttpResponse:
    raise RuntimeError(SECRET_DETAIL)


def database_gone_view(request: HttpRequest) -> HttpResponse:
    raise OperationalError(f"server closed the connection unexpectedly ({SECRET_DETAIL})")


urlpatterns = [
    path("test-only/broken", broken_view),
    path("test-only/database-gone", database_gone_view),
    *app_urlpatterns,
]
