"""The search index's domain errors."""

from rest_framework import status

from config.errors import AisleError


class SearchUnavailable(AisleError):
    code = "search_unavailable"
    message = "Search is unavailable right now; retry shortly."
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE


class RebuildError(Exception):
    """The rebuild could not finish; the alias still points at the previous index."""


class DrainIncomplete(Exception):
    """Elasticsearch refused some documents; the task retries them with backoff."""
