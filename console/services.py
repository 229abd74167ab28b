"""The console's writes: synonyms saved with the admin's audit trail (its LogEntry)."""

from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.auth.models import AbstractBaseUser
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
