"""POST /api/search/events/: check the body's size and shape, record the events, answer 202."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apikeys.permissions import request_key
from apikeys.scopes import Scope
from config.caller import caller
from config.errors import RequestTooLarge
from config.schema import RETRY_AFTER, error_responses
from config.throttling import SearchEventsThrottle
from searchevents.intake import MAX_BODY_BYTES
from searchevents.serializers import (
    SearchEventsInputSerializer,
    SearchEventsOutputSerializer,
    SearchEventsSchemaInputSerializer,
)
from searchevents.services import events_record


class SearchEventsView(APIView):
    required_scope = Scope.SEARCH
    throttle_classes = [SearchEventsThrottle]

    def check_throttles(self, request: Request) -> None:
        # After the key and scope checks, before the throttle parses the body to count events.
        if len(request._request.body) > MAX_BODY_BYTES:
            raise RequestTooLarge(
                f"The request body is larger than the {MAX_BODY_BYTES} bytes allowed.",
                details={"max_bytes": MAX_BODY_BYTES},
            )
        super().check_throttles(request)

    @extend_schema(
        operation_id="search_events_record",
        summary="Record clicks, add-to-carts and conversions",
        request=SearchEventsSchemaInputSerializer,
        parameters=[RETRY_AFTER],
        responses={
            202: SearchEventsOutputSerializer,
            **error_responses(
                400,
                413,
                429,
                describe={
                    400: 'Not `{"events": [...]}` with 1 to 100 events (`validation_error`),'
                    " or malformed JSON (`malformed_request`); nothing was stored.",
                    413: "Larger than 64 KB (`request_too_large`); nothing was stored.",
                },
            ),
        },
    )
    def post(self, request: Request) -> Response:
        body = SearchEventsInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        key = request_key(request)
        recorded = events_record(
            caller=caller(request),
            api_key=key.name if key is not None else None,
            raw_events=body.validated_data["events"],
        )
        return Response(
            SearchEventsOutputSerializer(recorded).data, status=status.HTTP_202_ACCEPTED
        )
