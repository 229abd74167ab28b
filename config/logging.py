"""The current request's id, kept in a context variable, and the log filter that stamps it."""

import logging
from contextvars import ContextVar

# A ContextVar (not a thread-local) so the id follows the request into async code as well.
request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)


def current_request_id() -> str | None:
    return request_id_var.get()


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record: the id of the request being served, else None."""

    def filter(self, record: logging.LogRecord) -> bool:
        # A record built elsewhere (e.g. relayed from another process) keeps the id it carries.
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        return True


# Celery's lines per task (received, succeeded, retried) and beat's line per task it sends: at
# a few a second they push the request log and the start-up URLs off a console, so they are kept
# for LOG_LEVEL=DEBUG (or LOG_LEVEL_CELERY). Failures are errors and always show.
CELERY_CHATTER_LOGGERS = ("celery.worker.strategy", "celery.app.trace", "celery.beat")


def celery_chatter_level(log_level: str, override: str = "") -> str:
    """The level of Celery's chatter loggers: `override` if given, else DEBUG when everything
    is at DEBUG, else WARNING (or `log_level`, if that is higher)."""
    if override.strip():
        return level_name(override)
    level = logging.getLevelName(level_name(log_level))
    return logging.getLevelName(level if level == logging.DEBUG else max(level, logging.WARNING))


def level_name(value: str) -> str:
    """`value` as a standard level name (`info` -> `INFO`); ValueError if it is none."""
    name = value.strip().upper()
    if not isinstance(logging.getLevelName(name), int):
        raise ValueError(f"not a log level: {value!r} (DEBUG, INFO, WARNING, ERROR, CRITICAL)")
    return name
