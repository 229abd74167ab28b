"""Rate limits per caller (API key, or address without one): one atomic Redis counter a scope."""

import functools
import logging
from typing import cast

from django.core.cache import cache
from django_redis import get_redis_connection
from redis import Redis
from redis.commands.core import Script
from redis.exceptions import RedisError
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from config.caller import caller

logger = logging.getLogger(__name__)

# INCR and the window's expiry in one step: no two requests can read the same count (DRF's
# cache-based throttle reads, then writes, and lets concurrent bursts through: DRF #8127), and
# a counter can never be left without an expiry. Returns the count and the window's ms left.
# A request may count for more than one (ARGV[2]: a batch of events counts each event).
_INCREMENT = """
local count = redis.call('INCRBY', KEYS[1], ARGV[2])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
"""

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """`"60/min"` -> (60 requests, 60 seconds); the period's first letter counts, as in DRF."""
    count, period = rate.split("/")
    return int(count), _PERIODS[period.strip()[0].lower()]


@functools.lru_cache(maxsize=4)
def _increment_script(connection: Redis) -> Script:
    # One Script per client: it hashes the source once and then only ever sends EVALSHA.
    return connection.register_script(_INCREMENT)


class AtomicRedisThrottle(BaseThrottle):
    """A fixed window per client that starts with its first request; fails open without Redis.

    The rate is read from `REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"][scope]` on every request,
    so a changed setting applies at once.
    """

    scope: str = ""

    def __init__(self) -> None:
        self._wait: float | None = None

    def client_ident(self, request: Request) -> str:
        # Two keys never share a budget; anonymous callers share one per address.
        return caller(request)

    def cost(self, request: Request) -> int:
        """How much of the budget this request uses: one, unless a scope counts otherwise."""
        return 1

    def allow_request(self, request: Request, view: APIView) -> bool:
        # The stubs type the rates as numbers; DRF's are strings such as "30/min".
        rates = cast(dict[str, str | None], api_settings.DEFAULT_THROTTLE_RATES)
        rate = rates.get(self.scope)
        if not rate:
            return True
        limit, seconds = parse_rate(rate)
        key = cache.make_key(f"throttle:{self.scope}:{self.client_ident(request)}")
        try:
            increment = _increment_script(get_redis_connection("default"))
            count, ttl_ms = increment(keys=[key], args=[seconds * 1000, self.cost(request)])
        except RedisError as exc:
            # Availability over strictness: a Redis outage must not take search down with it.
            logger.warning("throttle skipped, Redis unavailable", extra={"error": str(exc)})
            return True
        if int(count) <= limit:
            return True
        self._wait = int(ttl_ms) / 1000
        return False

    def wait(self) -> float | None:
        return self._wait


class SearchThrottle(AtomicRedisThrottle):
    scope = "search"


class SuggestThrottle(AtomicRedisThrottle):
    scope = "suggest"


class OrderPlaceThrottle(AtomicRedisThrottle):
    scope = "orders"


class ListingThrottle(AtomicRedisThrottle):
    """A store's order and inventory listings: one budget for both."""

    scope = "listings"


class SearchEventsThrottle(AtomicRedisThrottle):
    """Search events count one each, so a caller's budget is events, whatever the batch size."""

    scope = "search_events"

    def cost(self, request: Request) -> int:
        data = request.data  # a malformed body raises here: 400, and nothing is counted
        events = data.get("events") if isinstance(data, dict) else None
        return max(1, len(events)) if isinstance(events, list) else 1
