"""Settings for every environment, read from environment variables with safe local defaults."""

import ipaddress
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.logging import CELERY_CHATTER_LOGGERS, celery_chatter_level, level_name
from searchindex.nodes import connection_settings

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# "production" turns the safety switches on; anything else is a developer's machine.
AISLE_ENV = env_str("AISLE_ENV", "development")
PRODUCTION = AISLE_ENV == "production"

# Off unless asked for, in every run mode: gunicorn (`make run`, compose) serves the same error
# envelopes as production, and static files come from WhiteNoise, not from DEBUG.
DEBUG = env_bool("DJANGO_DEBUG", default=False)

_DEV_SECRET_KEY = "dev-only-insecure-key-change-me"  # noqa: S105 - a placeholder, refused in production
SECRET_KEY = env_str("DJANGO_SECRET_KEY", _DEV_SECRET_KEY)
# The same bar as `check --deploy` (security.W009), enforced at start-up instead of warned about.
if PRODUCTION and (
    SECRET_KEY == _DEV_SECRET_KEY
    or len(SECRET_KEY) < 50
    or len(set(SECRET_KEY)) < 5
    or SECRET_KEY.startswith("django-insecure-")
):
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY must be set to a real secret (50+ chars) in production."
    )

ALLOWED_HOSTS = env_list(
    "DJANGO_ALLOWED_HOSTS", "" if PRODUCTION else "localhost,127.0.0.1,[::1],testserver"
)
if PRODUCTION and (not ALLOWED_HOSTS or "*" in ALLOWED_HOSTS):
    raise ImproperlyConfigured(
        "DJANGO_ALLOWED_HOSTS must list this deployment's host names in production (no '*')."
    )
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

# The admin: off entirely with ADMIN_ENABLED=false; with ADMIN_HOST, served on that host name
# only (it is allowed as a host for that). Elsewhere /admin/ is the same 404 as any unknown
# path (config.middleware.AdminGateMiddleware).
ADMIN_ENABLED = env_bool("ADMIN_ENABLED", default=True)
ADMIN_HOST = env_str("ADMIN_HOST").strip().lower()
if ADMIN_HOST and ADMIN_HOST not in ALLOWED_HOSTS:
    ALLOWED_HOSTS.append(ADMIN_HOST)

# The reverse proxies in front of gunicorn, as addresses or CIDRs. X-Forwarded-For is believed
# only when the direct peer is one of them (config/clientip.py: throttles, the request log, the
# admin's login lockout); empty, every client is its REMOTE_ADDR and the header is ignored.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES")
try:
    for _proxy in TRUSTED_PROXIES:
        ipaddress.ip_network(_proxy, strict=False)
except ValueError as _error:
    raise ImproperlyConfigured(f"TRUSTED_PROXIES: {_error}") from None

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "axes",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_elasticsearch_dsl",
    "catalog",
    "inventory",
    "ordering",
    "searchindex",
    "merchandising",
    "searchevents",
    # Demo seed data: depends on every app above, and nothing depends on it.
    "demo",
]

MIDDLEWARE = [
    # First, so every response (even a refused one) carries X-Request-ID and every log line its id.
    "config.middleware.RequestIdMiddleware",
    # Next, so that whatever answers below it (Django's debug pages too) leaves as an envelope.
    "config.middleware.JsonErrorMiddleware",
    "config.middleware.RequestSizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before sessions and CSRF: an admin that is not served here costs nothing and shows nothing.
    "config.middleware.AdminGateMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Django's, but a write to a path missing its slash is a 404 envelope, never a redirect.
    "config.middleware.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a login refused for lockout into the lockout response.
    "axes.middleware.AxesMiddleware",
]

# Admin logins: django-axes counts failures per client address (config/clientip.py, so behind
# a trusted proxy each client counts apart) in Postgres, and after AXES_FAILURE_LIMIT (5) it
# refuses that address for AXES_COOLOFF_MINUTES (15), even with the right password; a login
# resets the count. By address and not by username: a username lock would let anyone keep a
# staff member out by failing on purpose. `manage.py axes_reset` lifts lockouts early.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "config.clientip.client_ip"
AXES_LOCKOUT_CALLABLE = "config.errors.json_login_locked_out"
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", "postgres://aisle:aisle@127.0.0.1:5432/aisle"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = env_int(
    "DATABASE_CONNECT_TIMEOUT", 5
)
# A request that cannot reach Postgres (a restart, a standby taking over) answers 503
# `service_unavailable` with this Retry-After, so clients and load balancers retry.
DATABASE_RETRY_AFTER_SECONDS = env_int("DATABASE_RETRY_AFTER_SECONDS", 2)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "aisle"),
        # Values once pickled live under version 1; this serializer never reads them.
        "VERSION": 2,
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.DefaultClient",
            # JSON, not django-redis's default pickle: a value written into Redis by anyone
            # is read back as data, never run as code.
            "SERIALIZER": "config.cache_serializer.OrjsonSerializer",
            "SOCKET_CONNECT_TIMEOUT": 1,
            "SOCKET_TIMEOUT": 1,
            # A Redis outage turns cache reads into misses instead of 500s.
            "IGNORE_EXCEPTIONS": True,
        },
    }
}
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True

# Inventory listing pages are cached at these page sizes only (the contract's default); other
# sizes are served from Postgres, so clients cannot make Redis hold a copy of each store's
# listing per page size they care to ask for.
INVENTORY_CACHED_PAGE_SIZES = [int(size) for size in env_list("INVENTORY_CACHED_PAGE_SIZES", "100")]

ELASTICSEARCH_URL = env_str("ELASTICSEARCH_URL", "http://127.0.0.1:9200")
# One node, or a cluster's nodes separated by commas: all of them go into the client's node pool.
# django-elasticsearch-dsl registers this client; searchindex/client.py derives every other one.
ELASTICSEARCH_DSL = {
    "default": connection_settings(ELASTICSEARCH_URL, timeout=env_int("ELASTICSEARCH_TIMEOUT", 5))
}
# Bulk writes (rebuild_index, outbox drains) have their own patience: one bulk request can take
# far longer than a search on a busy node. The rebuild retries a timeout and a 429 this many
# times, waiting BACKOFF s and doubling (at most 60 s); requests stop at MAX_BYTES or the count.
ELASTICSEARCH_BULK_TIMEOUT = float(env_str("ELASTICSEARCH_BULK_TIMEOUT", "120"))
ELASTICSEARCH_BULK_RETRIES = env_int("ELASTICSEARCH_BULK_RETRIES", 3)
ELASTICSEARCH_BULK_BACKOFF = float(env_str("ELASTICSEARCH_BULK_BACKOFF", "2"))
ELASTICSEARCH_BULK_MAX_BYTES = env_int("ELASTICSEARCH_BULK_MAX_BYTES", 10 * 1024 * 1024)
# rebuild_index merges the new index down to one segment before the swap (`--no-forcemerge`).
ELASTICSEARCH_REBUILD_FORCEMERGE = env_bool("ELASTICSEARCH_REBUILD_FORCEMERGE", True)
# Index names are prefixed so tests (and several deployments) can share one cluster.
ELASTICSEARCH_INDEX_PREFIX = env_str("ELASTICSEARCH_INDEX_PREFIX", "")
ELASTICSEARCH_SHARDS = env_int("ELASTICSEARCH_SHARDS", 1)
ELASTICSEARCH_REPLICAS = env_int("ELASTICSEARCH_REPLICAS", 0)
ELASTICSEARCH_REFRESH_INTERVAL = env_str("ELASTICSEARCH_REFRESH_INTERVAL", "1s")
# Suggestions are not cached for this long after the catalog version changes: Elasticsearch
# makes a change searchable only at its next refresh. Keep it above the refresh interval.
SUGGEST_CACHE_SETTLE_SECONDS = float(env_str("SUGGEST_CACHE_SETTLE_SECONDS", "2"))
# Query rules (merchandising/cache.py): each web process checks the rules' version in Redis at
# most this often, so a committed change is live everywhere within it (plus a reload).
RULES_CHECK_SECONDS = float(env_str("RULES_CHECK_SECONDS", "1"))
# Search and suggest give up after this many seconds and answer 503 instead of hanging.
ELASTICSEARCH_SEARCH_TIMEOUT = float(env_str("ELASTICSEARCH_SEARCH_TIMEOUT", "2"))

# Search analytics (searchindex/analytics.py): one event per search and suggest, buffered in
# each process and bulk-written to the `<prefix>aisle-search-events` data stream by a daemon
# thread. A full queue or an unreachable sink drops events; searches never wait for it.
SEARCH_ANALYTICS_ENABLED = env_bool("SEARCH_ANALYTICS_ENABLED", True)
SEARCH_ANALYTICS_URL = env_str("SEARCH_ANALYTICS_URL", "")  # empty: ELASTICSEARCH_URL
# Empty: ELASTICSEARCH_INDEX_PREFIX + "aisle-search-events".
SEARCH_ANALYTICS_DATA_STREAM = env_str("SEARCH_ANALYTICS_DATA_STREAM", "")
SEARCH_ANALYTICS_QUEUE_SIZE = env_int("SEARCH_ANALYTICS_QUEUE_SIZE", 10000)
SEARCH_ANALYTICS_BATCH_SIZE = env_int("SEARCH_ANALYTICS_BATCH_SIZE", 500)
SEARCH_ANALYTICS_FLUSH_SECONDS = float(env_str("SEARCH_ANALYTICS_FLUSH_SECONDS", "1"))
SEARCH_ANALYTICS_RETENTION_DAYS = env_int("SEARCH_ANALYTICS_RETENTION_DAYS", 30)
# The stream's backing indices: set in its index template, so a change reaches the next backing
# index (at rollover), never the ones written so far.
SEARCH_ANALYTICS_SHARDS = env_int("SEARCH_ANALYTICS_SHARDS", 1)
SEARCH_ANALYTICS_REPLICAS = env_int("SEARCH_ANALYTICS_REPLICAS", ELASTICSEARCH_REPLICAS)
# Search events (searchevents/): clicks, add-to-carts and order conversions, stored in Postgres
# and shipped to the same data stream; empty URL: SEARCH_ANALYTICS_URL, else ELASTICSEARCH_URL.
SEARCH_EVENTS_URL = env_str("SEARCH_EVENTS_URL", "")
# A client event_id is remembered this long (a repeat's query_id is void after 24 h anyway).
SEARCH_EVENTS_ID_RETENTION_HOURS = env_int("SEARCH_EVENTS_ID_RETENTION_HOURS", 48)
# A web process asks for a shipment after commit at most this often; the sweep covers the rest.
SEARCH_EVENTS_SHIP_EVERY_SECONDS = float(env_str("SEARCH_EVENTS_SHIP_EVERY_SECONDS", "1"))
# Its prune task lives beside the writer, not in a tasks.py autodiscovery would find.
CELERY_IMPORTS = ["searchindex.analytics"]

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "redis://127.0.0.1:6379/1")
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
# Index drains and sweeps have a queue of their own, consumed by a worker of its own (make run,
# compose's worker-index, the bench harness): a backlog of order confirmations on the default
# queue then never stands between a commit and its search freshness.
CELERY_TASK_DEFAULT_QUEUE = "celery"
SEARCHINDEX_QUEUE = env_str("SEARCHINDEX_QUEUE", "searchindex")
CELERY_TASK_ROUTES = {
    "searchindex.drain_pending": {"queue": SEARCHINDEX_QUEUE},
    "searchindex.sweep_pending": {"queue": SEARCHINDEX_QUEUE},
}
# The outbox sweep drains index changes whose after-commit task never ran (broker or workers
# down); `expires` stops a stopped beat's backlog from piling up behind a dead worker.
SEARCHINDEX_SWEEP_SECONDS = float(env_str("SEARCHINDEX_SWEEP_SECONDS", "5"))
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    # Synonym changes whose after-commit swap never ran or gave up reach the index from here.
    "searchindex-synonyms-sweep": {
        "task": "searchindex.synonyms_sweep",
        "schedule": 60.0,
        "options": {"expires": 60.0},
    },
    "searchindex-sweep-outbox": {
        "task": "searchindex.sweep_pending",
        "schedule": SEARCHINDEX_SWEEP_SECONDS,
        "options": {"expires": SEARCHINDEX_SWEEP_SECONDS},
    },
    # Confirmations whose after-commit enqueue failed (broker down) are sent from here.
    "ordering-confirmation-sweep": {
        "task": "ordering.tasks.send_pending_order_confirmations",
        "schedule": 60.0,
        "options": {"expires": 60.0},
    },
    # The events' retention where Elasticsearch runs no data stream lifecycle (see analytics).
    "searchindex-search-events-prune": {
        "task": "searchindex.search_events_prune",
        "schedule": 3600.0,
        "options": {"expires": 3600.0},
    },
    # Search events and order conversions whose after-commit shipment never ran or failed.
    "searchevents-sweep": {
        "task": "searchevents.sweep",
        "schedule": SEARCHINDEX_SWEEP_SECONDS,
        "options": {"expires": SEARCHINDEX_SWEEP_SECONDS},
    },
    "searchevents-purge-event-ids": {
        "task": "searchevents.purge_event_ids",
        "schedule": 3600.0,
        "options": {"expires": 3600.0},
    },
    "ordering-idempotency-purge": {
        "task": "ordering.tasks.purge_idempotency_records",
        "schedule": 3600.0,
        "options": {"expires": 3600.0},
    },
}
# How long an Idempotency-Key is remembered. Clients retry within minutes; a day leaves room for
# a retry queue that drains the next morning, and keeps the table from growing without end.
IDEMPOTENCY_KEY_RETENTION_HOURS = env_int("IDEMPOTENCY_KEY_RETENTION_HOURS", 24)
# After an after-commit publish finds the broker unreachable, a process skips publishing for
# this long (config/broker.py): the sweeps pick the work up from Postgres meanwhile.
BROKER_RETRY_AFTER_SECONDS = float(env_str("BROKER_RETRY_AFTER_SECONDS", "5"))
# Publishing to an unreachable broker must fail within about a second, not hang the request that
# committed (kombu would otherwise retry connecting for broker_connection_timeout + backoff, ~6 s):
# enqueue failures are logged and swallowed, and the sweeps above catch up. Workers keep their
# own reconnect loop (broker_connection_retry), which passes its own limits.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 1,
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
    # A task taken by a worker that died without acking (acks_late) is redelivered after this
    # many seconds. It must stay above the longest task's run time and the longest retry
    # countdown (a worker holds a delayed retry unacked until it is due; 300 s at most here),
    # or a task is delivered twice. The fault drills shorten it.
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 900),
}

REST_FRAMEWORK: dict[str, Any] = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["config.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "config.pagination.PageNumberPagination",
    "DEFAULT_SCHEMA_CLASS": "config.schema.AutoSchema",
    "EXCEPTION_HANDLER": "config.errors.exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "search": env_str("SEARCH_THROTTLE_RATE", "120/min"),
        "suggest": env_str("SUGGEST_THROTTLE_RATE", "60/min"),
        # Per caller: a till or storefront backend places a few orders a second at most.
        "orders": env_str("ORDER_THROTTLE_RATE", "120/min"),
        "listings": env_str("LISTING_THROTTLE_RATE", "120/min"),
        # Counted in events, not requests: a storefront sends a few per search at most.
        "search_events": env_str("SEARCH_EVENTS_THROTTLE_RATE", "1200/min"),
    },
    # DRF's own reading of X-Forwarded-For stays off (its default, None, trusts the header as
    # sent): client addresses come from config/clientip.py, which honours TRUSTED_PROXIES.
    "NUM_PROXIES": 0,
    "UNAUTHENTICATED_USER": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Aisle API",
    "DESCRIPTION": "Catalog, per-store stock, transactional orders and product search.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # /readyz reports each dependency with the same ok/down choice: one enum, one name.
    "ENUM_NAME_OVERRIDES": {"DependencyStateEnum": ["ok", "down"]},
}

# --- API keys (apikeys/): who may call what; the policy is in apikeys/permissions.py. ---
# The library's app must be installed for its abstract model; its own APIKey is left unused.
INSTALLED_APPS += ["rest_framework_api_key", "apikeys"]
# A key is read from `Authorization: Api-Key <key>` or `X-Api-Key`; each view declares the scope
# it needs. No session authentication on the API: it is for machines, and cookies bring CSRF.
REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"] = ["apikeys.authentication.ApiKeyAuthentication"]
REST_FRAMEWORK["DEFAULT_PERMISSION_CLASSES"] = ["apikeys.permissions.ApiKeyPolicy"]
# Calls without a key are 401 when this is on. Read at request time. Always on in production;
# the environment may switch it on in development (to try the policy), never off in production.
API_KEYS_REQUIRED = PRODUCTION or env_bool("API_KEYS_REQUIRED", False)
# The schema and Swagger UI: any valid key, or a staff member signed in to the admin (a browser
# opening /api/docs/ cannot send a key header; the Authorize button then sets one for calls).
SPECTACULAR_SETTINGS["SERVE_AUTHENTICATION"] = [
    "apikeys.authentication.ApiKeyAuthentication",
    "rest_framework.authentication.SessionAuthentication",
]
SPECTACULAR_SETTINGS["SERVE_PERMISSIONS"] = ["apikeys.permissions.SchemaAccess"]
# Who is calling, for per-caller rate limits and Idempotency-Key namespaces (config/caller.py): a
# function of the request returning the caller's key id, or None to fall back to the address.
AISLE_CALLER_RESOLVER = "apikeys.caller.caller_id"
# The model a key's store ids name; apikeys validates them through it without importing it.
APIKEYS_STORE_MODEL = "inventory.Store"

# Requests carry small JSON bodies; anything larger is refused before it is parsed.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 1024 * 1024)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# WhiteNoise would follow DEBUG here; off a production host it also serves assets that were
# never collected (the admin's, Swagger UI's), so `runserver` keeps working with DEBUG off.
WHITENOISE_USE_FINDERS = not PRODUCTION
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
    SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
    SESSION_COOKIE_HTTPONLY = True
    X_FRAME_OPTIONS = "DENY"

try:
    LOG_LEVEL = level_name(env_str("LOG_LEVEL", "INFO"))
    # Celery's per-task and beat's per-send lines (config/logging.py): quiet unless asked for.
    LOG_LEVEL_CELERY_CHATTER = celery_chatter_level(LOG_LEVEL, env_str("LOG_LEVEL_CELERY", ""))
except ValueError as _error:
    raise ImproperlyConfigured(f"LOG_LEVEL / LOG_LEVEL_CELERY: {_error}") from None
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "config.logging.RequestIdFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            # On the handler, not a logger: handler filters also see records propagated upwards.
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "elastic_transport": {"level": "ERROR"},
        "elasticsearch": {"level": "WARNING"},
        # Failed logins and lockouts are warnings; its start-up banner and routine lines are not.
        "axes": {"level": "WARNING"},
        **{name: {"level": LOG_LEVEL_CELERY_CHATTER} for name in CELERY_CHATTER_LOGGERS},
    },
}

# Index sync goes through our outbox (searchindex), never the library's save-time processor.
ELASTICSEARCH_DSL_AUTOSYNC = False
ELASTICSEARCH_DSL_AUTO_REFRESH = False
# Our processor records (model, pk) outbox rows in the change's transaction; it never indexes.
ELASTICSEARCH_DSL_SIGNAL_PROCESSOR = "searchindex.signals.OutboxSignalProcessor"
