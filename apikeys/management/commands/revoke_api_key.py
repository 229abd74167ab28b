"""`manage.py revoke_api_key --prefix P` (one key) or `--name N` (every key of that name)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apikeys.models import ApiKey
from apikeys.services import api_keys_revoke


class Command(BaseCommand):
    help = "Revoke API keys by prefix or by name. A revoked key is refused at once, for good."

    def add_arguments(self, parser: CommandParser) -> None:
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--prefix", help="The key's prefix (the part before the dot).")
        which.add_argument("--name", help="Revoke every key with this name.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["prefix"]:
            keys = ApiKey.objects.filter(prefix=options["prefix"])
        else:
            keys = ApiKey.objects.filter(name=options["name"])
        if not keys.exists():
            raise CommandError("No API key matches.")
        count = api_keys_revoke(keys=keys)
        self.stdout.write(f"Revoked {count} API key(s).")
