"""`manage.py create_api_key --name NAME --scopes search,orders:write [--stores 1,2]`."""

from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from apikeys.scopes import Scope
from apikeys.services import api_key_create


def comma_list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def comma_ints(value: str) -> list[int]:
    try:
        return [int(item) for item in comma_list(value)]
    except ValueError:
        raise CommandError(f"--stores takes store ids separated by commas: {value!r}.") from None


class Command(BaseCommand):
    help = "Create an API key and print it once (it is stored hashed and cannot be shown again)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True, help="Who or what the key is for.")
        parser.add_argument(
            "--scopes",
            required=True,
            help=f"Comma-separated, from: {', '.join(Scope.values)}.",
        )
        parser.add_argument(
            "--stores", default="", help="Comma-separated store ids the key is limited to."
        )
        parser.add_argument(
            "--expires-in-days", type=int, default=None, help="Default: never expires."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        scopes = comma_list(options["scopes"])
        unknown = sorted(set(scopes) - set(Scope.values))
        if unknown or not scopes:
            raise CommandError(
                f"Unknown scope(s) {', '.join(unknown) or '(none given)'}; "
                f"choose from {', '.join(Scope.values)}."
            )
        days = options["expires_in_days"]
        if days is not None and days < 1:
            raise CommandError("--expires-in-days must be 1 or more.")
        try:
            api_key, key = api_key_create(
                name=options["name"],
                scopes=scopes,
                store_ids=comma_ints(options["stores"]),
                expiry_date=timezone.now() + timedelta(days=days) if days else None,
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        if options["verbosity"] >= 1:
            stores = ", ".join(map(str, api_key.store_ids)) or "all"
            expires = api_key.expiry_date.isoformat() if api_key.expiry_date else "never"
            self.stderr.write(
                f"Created API key {api_key.name!r}: prefix {api_key.prefix}, "
                f"scopes {', '.join(api_key.scopes)}, stores {stores}, expires {expires}.\n"
                "The key follows; it is shown only now, so store it somewhere safe."
            )
        self.stdout.write(key)
