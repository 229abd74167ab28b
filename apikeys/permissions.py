"""The policy: what each view's `required_scope` asks of the caller, read at request time.

Every API view declares one line, `required_scope = Scope.SEARCH` (or `PUBLIC`, `ANY_KEY`), and
`ApiKeyPolicy` (the default permission class) applies it:

- `PUBLIC`: anyone, key or not (health probes).
- With `settings.API_KEYS_REQUIRED` (on in production), a call without a key is 401; in
  development it is served as before. A key that is sent is always checked: an invalid, revoked
  or expired key is 401 (ApiKeyAuthentication), a key without the scope is 403.
- A key limited to stores is 403 on any other store, named by the URL's `store_id` (a store's
  orders and inventory) or by a request body's `store_id` (order placement).
"""

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from rest_framework import permissions, serializers
from rest_framework.request import Request

from apikeys.models import ApiKey
from apikeys.scopes import ANY_KEY, PUBLIC, Scope

if TYPE_CHECKING:  # rest_framework.views imports DRF's settings, which import this module
    from rest_framework.views import APIView


def keys_required() -> bool:
    return settings.API_KEYS_REQUIRED


def request_key(request: Request) -> ApiKey | None:
    return request.auth if isinstance(request.auth, ApiKey) else None


# Scopes a signed-in, active staff member holds without a key (the search console in a browser,
# which cannot keep a key secret). Views offering them authenticate sessions with DRF's
# SessionAuthentication, which enforces CSRF on unsafe methods.
STAFF_SCOPES = frozenset({Scope.SEARCH, Scope.SEARCH_ADMIN})


def staff_session(request: Request) -> bool:
    user = request.user
    return bool(user is not None and user.is_active and user.is_staff)


def has_search_admin(request: Request) -> bool:
    """A `search:admin` key, or (with no key sent) a signed-in staff member."""
    key = request_key(request)
    if key is not None:
        return key.has_scope(Scope.SEARCH_ADMIN)
    return staff_session(request)


def required_scope(view: Any) -> str:
    scope = getattr(view, "required_scope", None)
    if scope not in {*Scope.values, PUBLIC, ANY_KEY}:
        # Fail closed and loudly: a view nobody thought about must not be open in production.
        raise ImproperlyConfigured(
            f"{type(view).__name__} must declare required_scope (a Scope, PUBLIC or ANY_KEY)."
        )
    return scope


def key_error_statuses(view: Any) -> list[int]:
    """The statuses the policy can answer for this view, for its OpenAPI operations."""
    scope = getattr(view, "required_scope", None)
    if scope in Scope.values:
        return [401, 403]
    return [401] if scope == ANY_KEY else []


def policy_description(view: Any) -> str | None:
    """One sentence for the operation's OpenAPI description: which key it needs."""
    scope = getattr(view, "required_scope", None)
    if scope not in Scope.values:
        return None
    limited = (
        " A key limited to stores may act only on those."
        if scope not in {Scope.SEARCH, Scope.SEARCH_ADMIN}
        else ""
    )
    return (
        f"API key scope: `{scope}` (required in production; in development a key is optional,"
        f" but a key that is sent must be valid and have this scope).{limited}"
    )


def requested_store_id(request: Request, view: "APIView") -> int | None:
    """The store a request acts on: the URL's `store_id`, else a JSON body's `store_id`."""
    if "store_id" in view.kwargs:
        return int(view.kwargs["store_id"])
    if request.method in permissions.SAFE_METHODS:
        return None
    data = request.data
    if not isinstance(data, dict) or "store_id" not in data:
        return None
    try:
        # Read as the input serializers read it; a value they cannot read is their 400 to give.
        return serializers.IntegerField().to_internal_value(data["store_id"])
    except serializers.ValidationError:
        return None


class ApiKeyPolicy(permissions.BasePermission):
    """The default permission class: the view's `required_scope`, applied to `request.auth`.

    Returning False without a key makes DRF answer 401 `NotAuthenticated` (with
    `WWW-Authenticate: Api-Key`); with a key, 403 `PermissionDenied` with `self.message`.
    """

    def schema_error_statuses(self, view: Any) -> list[int]:
        """For config.schema's AutoSchema: what this policy can answer for the view."""
        return key_error_statuses(view)

    def schema_description(self, view: Any) -> str | None:
        """For config.schema's AutoSchema: the sentence on the key the view needs."""
        return policy_description(view)

    def has_permission(self, request: Request, view: "APIView") -> bool:
        scope = required_scope(view)
        if scope == PUBLIC:
            return True
        key = request_key(request)
        if key is None:
            if scope in STAFF_SCOPES and staff_session(request):
                return True
            return not keys_required()
        if scope == ANY_KEY:
            return True
        if not key.has_scope(scope):
            self.message = f"This API key does not have the `{scope}` scope."
            return False
        if key.store_ids:
            store_id = requested_store_id(request, view)
            if store_id is not None and not key.allows_store(store_id):
                self.message = f"This API key may not act on store {store_id}."
                return False
        return True


class SchemaAccess(permissions.BasePermission):
    """`/api/schema/` and `/api/docs/`: any valid key, or a staff member signed in to the admin
    (a browser cannot send a key when it opens the docs page). Open in development."""

    def has_permission(self, request: Request, view: "APIView") -> bool:
        if request_key(request) is not None or not keys_required():
            return True
        return staff_session(request)
