"""Who may open a console page, and the headers every console page carries."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse

from config.middleware import admin_served_to

LOGIN_URL = "/admin/login/"

# Scripts, styles and fetches from this origin only; product images may come from any https CDN
# (the catalogue's image_url). SVG charts use presentation attributes, so no inline style either.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' https: data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

View = Callable[..., HttpResponse]


def console_page(view: View) -> View:
    """Staff only: anonymous visitors go to the admin's login (its lockout included), signed-in
    non-staff get 403. Served wherever the admin is (ADMIN_ENABLED, ADMIN_HOST), nowhere else."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not admin_served_to(request):
            raise Http404
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path(), LOGIN_URL)
        if not (user.is_active and user.is_staff):
            raise PermissionDenied
        response = view(request, *args, **kwargs)
        response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response["Cache-Control"] = "no-store"
        response["Referrer-Policy"] = "same-origin"
        return response

    return wrapped
