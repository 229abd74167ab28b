"""The console's writes: synonyms saved with the admin's audit trail, and a local staff user."""

import secrets

from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction

from console.forms import SynonymForm
from searchindex.models import Synonym


@transaction.atomic
def synonym_save(*, form: SynonymForm, user: AbstractBaseUser) -> Synonym:
    """Save a validated form and log it as the admin would; the Synonym signal swaps the rules
    into the live index after commit."""
    adding = form.instance.pk is None
    synonym = form.save()
    LogEntry.objects.log_actions(
        user_id=user.pk,
        queryset=[synonym],
        action_flag=ADDITION if adding else CHANGE,
        change_message=(
            [{"added": {}}] if adding else [{"changed": {"fields": form.changed_data}}]
        ),
        single_object=True,
    )
    return synonym


DEV_STAFF_USERNAME = "console"


def dev_staff_user_ensure() -> str | None:
    """Create the local staff user `console` if no such user exists; returns its new password
    (shown once, never stored in plain text), or None when the user was already there."""
    users = get_user_model()
    if users.objects.filter(username=DEV_STAFF_USERNAME).exists():
        return None
    password = secrets.token_urlsafe(12)
    users.objects.create_user(
        DEV_STAFF_USERNAME, password=password, is_staff=True, is_superuser=True
    )
    return password
