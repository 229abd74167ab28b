"""The search index's domain errors."""

from rest_framework import status

from config.errors import AisleError


class SearchUnavailable(AisleError):
    code = "search_unavailable"
    message = "Search is unavailable right now; retry shortly."
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE


class RebuildError(Exception):
    """The rebuild could not finish; the message says what failed, how things stand, what to do.

    `advice` carries the "what to do" of a failed step up to `index_rebuild`, which words the
    whole line once it knows how it left the alias.
    """

    def __init__(self, message: str, *, advice: str = "") -> None:
        super().__init__(message)
        self.advice = advice


class DrainIncomplete(Exception):
    """Elasticsearch refused some documents; the task retries them with backoff."""
