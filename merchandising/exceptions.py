"""Merchandising's domain errors."""

from rest_framework import status

from config.errors import AisleError


class RuleInvalid(AisleError):
    code = "validation_error"
    message = "The rule is not valid."
    status_code = status.HTTP_400_BAD_REQUEST
