"""The broker's redelivery window has to outlast every retry countdown our tasks can ask for."""

from django.conf import settings

from config.celery import app


def test_visibility_timeout_outlasts_every_retry_backoff():
    app.loader.import_default_modules()  # registers the apps' tasks
    ours = [task for name, task in app.tasks.items() if not name.startswith("celery.")]
    longest = max(task.retry_backoff_max for task in ours if getattr(task, "retry_backoff", False))
    assert longest > 0
    assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] >= 2 * longest
