"""Liveness and readiness: `/healthz` says the process is up, `/readyz` checks each dependency."""

import logging
from collections.abc import Callable

from django.db import connection
from django_redis import get_redis_connection
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.errors import AisleError
from config.schema import error_responses
from searchindex.client import ALIAS, health_client

logger = logging.getLogger(__name__)

# apikeys.scopes.PUBLIC, by value: config does not import apikeys (tests/apikeys/test_schema.py
# checks every view's scope is one the policy knows).
PUBLIC = "public"


# The product index's health as readiness words: green is "ok"; yellow serves every search but
# some shard lacks its replica (one more node loss could cost data); red has a shard with no
# copy at all, so searches fail.
ELASTICSEARCH_STATES = {"green": "ok", "yellow": "yellow", "red": "red"}
NOT_READY = {"down", "red"}


def check_postgres() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def check_redis() -> None:
    get_redis_connection("default").ping()


def check_elasticsearch() -> str:
    """The health of the index behind the alias (of the whole cluster before the first build)."""
    client = health_client()
    index = ALIAS if client.indices.exists_alias(name=ALIAS) else None
    return ELASTICSEARCH_STATES[client.cluster.health(index=index)["status"]]


CHECKS: dict[str, Callable[[], str | None]] = {
    "postgres": check_postgres,
    "redis": check_redis,
    "elasticsearch": check_elasticsearch,
}


def readiness() -> dict[str, str]:
    report = {}
    for name, check in CHECKS.items():
        try:
            report[name] = check() or "ok"
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready", whatever raised it
            logger.warning("readiness check failed", extra={"dependency": name, "error": str(exc)})
            report[name] = "down"
    return report


ReadinessSerializer = inline_serializer(
    "Readiness",
    {
        name: serializers.ChoiceField(
            choices=["ok", "yellow", "red", "down"] if name == "elasticsearch" else ["ok", "down"]
        )
        for name in CHECKS
    },
)


class HealthView(APIView):
    # Probes never need a key, and a stray header cannot fail them: no authentication at all.
    authentication_classes: list = []
    required_scope = PUBLIC

    @extend_schema(
        responses={200: inline_serializer("Health", {"status": serializers.CharField()})}
    )
    def get(self, request: Request) -> Response:
        return Response({"status": "ok"})


class NotReady(AisleError):
    code = "not_ready"
    status_code = 503


class ReadyView(APIView):
    authentication_classes: list = []
    required_scope = PUBLIC

    @extend_schema(
        responses={
            200: ReadinessSerializer,
            **error_responses(
                503,
                describe={
                    503: "Some dependency is down (or the index is red); `details` names it."
                },
            ),
        }
    )
    def get(self, request: Request) -> Response:
        report = readiness()
        problems = [
            f"{name} {'unreachable' if state == 'down' else state}"
            for name, state in report.items()
            if state in NOT_READY
        ]
        if problems:
            raise NotReady(f"Not ready: {', '.join(problems)}.", details=report)
        return Response(report)
