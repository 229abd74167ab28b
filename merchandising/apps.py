"""App config for merchandising (query rules)."""

from django.apps import AppConfig


class MerchandisingConfig(AppConfig):
    name = "merchandising"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from merchandising.cache import connect_rules_invalidation

        connect_rules_invalidation()  # every web process sees a committed change within seconds
