"""Who may read and write query rules with a session: the admin's model permissions."""

from typing import TYPE_CHECKING, Any

from rest_framework import permissions
from rest_framework.request import Request

from apikeys.permissions import request_key

if TYPE_CHECKING:
    from rest_framework.views import APIView

# What each write asks of a signed-in user, as the admin asks it.
WRITE_PERMISSIONS: dict[str, tuple[str, str]] = {
    "POST": ("merchandising.add_queryrule", "create"),
    "PUT": ("merchandising.change_queryrule", "change"),
    "PATCH": ("merchandising.change_queryrule", "change"),
    "DELETE": ("merchandising.delete_queryrule", "delete"),
}
# Reading takes any of them: whoever may write rules must see them (the console lists the rules
# it edits), and `view_queryrule` alone gives a read-only merchandiser.
READ_PERMISSIONS = (
    "merchandising.view_queryrule",
    *sorted({perm for perm, _ in WRITE_PERMISSIONS.values()}),
)


class RulePermission(permissions.BasePermission):
    """A signed-in user calling without a key (the search console) needs the admin's permission
    for the method; a key is judged by its scope alone (ApiKeyPolicy), and a call with neither
    is ApiKeyPolicy's to refuse (open in development only)."""

    def schema_description(self, view: Any) -> str | None:
        """For config.schema's AutoSchema: the permissions a session needs."""
        return (
            "Signed in to the admin instead (the search console), the user needs the admin's"
            " permission for the method, else 403: `merchandising.add_queryrule` to create,"
            " `change_queryrule` to replace or change, `delete_queryrule` to delete, and any of"
            " these or `view_queryrule` to read."
        )

    def has_permission(self, request: Request, view: "APIView") -> bool:
        user = request.user
        # An anonymous caller's user is None (UNAUTHENTICATED_USER): ApiKeyPolicy decided it.
        if request_key(request) is not None or user is None or not user.is_authenticated:
            return True
        if request.method in permissions.SAFE_METHODS:
            if any(user.has_perm(perm) for perm in READ_PERMISSIONS):
                return True
            self.message = (
                "You may not see query rules: ask for the `merchandising.view_queryrule`"
                " permission."
            )
            return False
        # A method not listed (no handler: DRF answers 405 after this) asks for change.
        perm, action = WRITE_PERMISSIONS.get(request.method or "", WRITE_PERMISSIONS["PUT"])
        if user.has_perm(perm):
            return True
        self.message = f"You may not {action} query rules: ask for the `{perm}` permission."
        return False
