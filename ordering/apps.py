"""App config for ordering."""

from django.apps import AppConfig


class OrderingConfig(AppConfig):
    name = "ordering"

    def ready(self) -> None:
        # Orders publish their confirmation by the task's name (ordering.services); registering
        # the task in every process (web too, not only workers) lets that publish resolve the
        # task itself, so it runs as the task is configured (eagerly where tasks are eager).
        from ordering import tasks  # noqa: F401
