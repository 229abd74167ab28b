"""Reads the caller's API key from either header and makes it `request.auth`."""

import re

from django.http import HttpRequest
from rest_framework import authentication, exceptions
from rest_framework.request import Request
from rest_framework_api_key.permissions import KeyParser

from apikeys.models import ApiKey

AUTHORIZATION_KEYWORD = "Api-Key"
HEADER = "X-Api-Key"
# The library's keys are "<prefix>.<secret>", both from get_random_string's letters and digits.
# Anything else is refused before it reaches the database (a NUL byte would be a DataError).
KEY_FORMAT = re.compile(r"[A-Za-z0-9]{1,8}\.[A-Za-z0-9]{1,128}")
# One message for unknown, revoked and expired keys: a caller learns nothing about which.
INVALID_KEY_MESSAGE = "Invalid, revoked or expired API key."


class ApiKeyParser(KeyParser):
    """The library's parser reads one header; the contract accepts two, Authorization first."""

    keyword = AUTHORIZATION_KEYWORD

    def get(self, request: HttpRequest) -> str | None:
        key = self.get_from_authorization(request)
        if key is None:
            key = self.get_from_header(request, "HTTP_X_API_KEY")
        return key


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """No key: anonymous (the permission decides). A key that is sent must be valid, or 401.

    Succeeds with `(None, ApiKey)`: there is no user, and `request.auth` is the key, for the
    permission classes, per-caller limits and anything else that needs to know who called.
    """

    parser = ApiKeyParser()

    def authenticate(self, request: Request) -> tuple[None, ApiKey] | None:
        key = self.parser.get(request)
        if key is None:
            return None
        if not KEY_FORMAT.fullmatch(key):
            raise exceptions.AuthenticationFailed(INVALID_KEY_MESSAGE)
        try:
            api_key = ApiKey.objects.get_from_key(key)  # unrevoked, hash compared in constant time
        except ApiKey.DoesNotExist:
            raise exceptions.AuthenticationFailed(INVALID_KEY_MESSAGE) from None
        if api_key.has_expired:
            raise exceptions.AuthenticationFailed(INVALID_KEY_MESSAGE)
        return (None, api_key)

    def authenticate_header(self, request: Request) -> str:
        # Makes DRF answer a missing or bad key with 401 (not 403) and this WWW-Authenticate.
        return AUTHORIZATION_KEYWORD
