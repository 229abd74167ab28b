"""`manage.py ensure_dev_api_keys`: one local key per scope for `make run`, printed each time."""

import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apikeys.services import dev_api_keys_ensure

DEFAULT_FILE = Path(os.environ.get("AISLE_CACHE", "/var/cache/aisle")) / "dev-api-keys.txt"


class Command(BaseCommand):
    help = (
        "Create (once) a development API key per scope, keep their plaintext in a private file"
        " outside the repository, and print them. Refused in production."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--file", type=Path, default=DEFAULT_FILE, help=f"Default: {DEFAULT_FILE}."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError(
                "Development keys are not made in production: use create_api_key instead."
            )
        keys = dev_api_keys_ensure(path=options["file"])
        self.stdout.write(f"[run] Development API keys (kept in {options['file']}):")
        for item in keys:
            self.stdout.write(f"  {item.scope:<13} {item.key}   ({item.name})")
        self.stdout.write(
            "  Send one as `Authorization: Api-Key <key>` or `X-Api-Key: <key>`; in development"
            " calls without a key work too."
        )
