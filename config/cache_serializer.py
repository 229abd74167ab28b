"""The cache's serializer: JSON (orjson) instead of pickle, so a value read from Redis is data."""

import decimal
import logging
from typing import Any

import orjson
from django_redis.serializers.base import BaseSerializer

logger = logging.getLogger(__name__)


def _default(value: Any) -> Any:
    # Prices come out of Postgres as Decimals; their exact string is what the API shows anyway.
    if isinstance(value, decimal.Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not cacheable as JSON")


class OrjsonSerializer(BaseSerializer):
    """django-redis's serializer hook, JSON through orjson.

    Unpickling runs code: with django-redis's default serializer, anyone able to write one
    Redis key could run code in every web and worker process. JSON only ever yields dicts,
    lists, strings, numbers, booleans and None; datetimes are stored as ISO strings and
    Decimals as strings, and anything else is refused when it is cached (a TypeError, loud in
    tests), never silently degraded. A value that is not JSON reads as a miss.
    """

    def dumps(self, value: Any) -> bytes:
        return orjson.dumps(value, default=_default)

    def loads(self, value: bytes) -> Any:
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            logger.warning("cache value is not JSON; treated as a miss")
            return None
