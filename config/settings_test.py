"""Test settings: the real services, with speed-ups only."""

import uuid

from config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Celery runs tasks in-process unless a test asks for a real broker; the services stay real.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
LOGGING["root"]["level"] = "WARNING"  # noqa: F405

# Tests get their own Redis databases and a per-run index prefix, so they never touch dev data.
REDIS_URL = env_str("TEST_REDIS_URL", "redis://127.0.0.1:6379/10")  # noqa: F405
CACHES["default"]["LOCATION"] = REDIS_URL  # noqa: F405
CACHES["default"]["KEY_PREFIX"] = "aisle-test"  # noqa: F405
CELERY_BROKER_URL = env_str("TEST_CELERY_BROKER_URL", "redis://127.0.0.1:6379/11")  # noqa: F405
ELASTICSEARCH_INDEX_PREFIX = f"test-{uuid.uuid4().hex[:8]}-"
# Tests refresh the index explicitly before they read it, so no change is left to settle; the
# test of the settle window sets its own.
SUGGEST_CACHE_SETTLE_SECONDS = 0
# A broker outage a test stages must not make the next test skip its publishes; the test of that
# pause sets its own.
BROKER_RETRY_AFTER_SECONDS = 0
# Order and listing tests send far more than a till would from one address; the throttle tests
# set their own rates.
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {  # noqa: F405
    **REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],  # noqa: F405
    "orders": "1000000/min",
    "listings": "1000000/min",
}
# Search analytics only where a test asks for it (tests/searchindex/test_analytics.py): the
# Docker-less node cannot delete a data stream, so every run would otherwise leave one behind.
SEARCH_ANALYTICS_ENABLED = False
# Rules are checked on every search, so a test sees the rules it wrote; the test of the live
# window sets its own interval.
RULES_CHECK_SECONDS = 0
