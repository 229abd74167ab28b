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
from searchindex.client import health_client

logger = logging.getLogger(__name__)

# apikeys.scopes.PUBLIC, by value: config does not import apikeys (tests/apikeys/test_schema.py
# checks every view's scope is one the policy knows).
PUBLIC = "public"


def check_postgres() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def check_redis() -> None:
    get_redis_connection("default").ping()


def check_elasticsearch() -> None:
    health = health_client().cluster.health()
    if health["status"] == "red":
        raise RuntimeError("cluster status is red")


CHECKS: dict[str, Callable[[], None]] = {
    "postgres": check_postgres,
    "redis": check_redis,
    "elasticsearch": check_elasticsearch,
}


def readiness() -> dict[str, str]:
    report = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready", whatever raised it
            logger.warning("readiness check failed", extra={"dependency": name, "error": str(exc)})
            report[name] = "down"
        else:
            report[name] = "ok"
    return report


ReadinessSerializer = inline_serializer(
    "Readiness", {name: serializers.ChoiceField(choices=["ok", "down"]) for name in CHECKS}
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
            **error_responses(503, describe={503: "Some dependency is down; `details` names it."}),
        }
    )
    def get(self, request: Request) -> Response:
        report = readiness()
        down = [name for name, state in report.items() if state != "ok"]
        if down:
            raise NotReady(f"Not ready: {', '.join(down)} unreachable.", details=report)
        return Response(report)
