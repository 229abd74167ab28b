"""App config for API keys."""

from django.apps import AppConfig


class ApiKeysConfig(AppConfig):
    name = "apikeys"
    verbose_name = "API keys"

    def ready(self) -> None:
        # Registers the OpenAPI security schemes (an import-time side effect of drf-spectacular).
        from apikeys import schema  # noqa: F401
