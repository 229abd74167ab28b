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
