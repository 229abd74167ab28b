"""Ordering's domain errors."""

from rest_framework import status

from config.errors import AisleError


class IdempotencyConflict(AisleError):
    code = "idempotency_conflict"
    message = "This Idempotency-Key was already used with a different request body."
    status_code = status.HTTP_409_CONFLICT
