"""`manage.py ensure_console_user`: for `make run`, the console's URL and a way in."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from console.services import DEV_STAFF_USERNAME, dev_staff_user_ensure


class Command(BaseCommand):
    help = (
        "Print the search console's URL. In development, create (once) a local staff user"
        f" `{DEV_STAFF_USERNAME}` and print its password that one time; in production only say"
        " how to create a staff user."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="Where Aisle answers.")

    def handle(self, *args: Any, **options: Any) -> None:
        url = options["url"].rstrip("/")
        self.stdout.write(f"  Search console {url}/console/   (staff only: the admin's login)")
        if settings.PRODUCTION:
            self.stdout.write("  Create a staff user: .venv/bin/python manage.py createsuperuser")
            return
        password = dev_staff_user_ensure()
        if password is None:
            self.stdout.write(
                f"  Local staff user `{DEV_STAFF_USERNAME}` exists (its password was shown once,"
                f" when it was made; reset it: manage.py changepassword {DEV_STAFF_USERNAME})."
            )
        else:
            self.stdout.write(
                f"  Local staff user `{DEV_STAFF_USERNAME}`, password {password}"
                "   (shown this once; development only)"
            )
