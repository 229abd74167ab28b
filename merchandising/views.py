"""The query rules API: list, create, read, replace, change and delete rules."""

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apikeys.authentication import ApiKeyAuthentication
from apikeys.permissions import ApiKeyPolicy, request_key
from apikeys.scopes import Scope
from config.errors import NotFound
from config.pagination import page_size_pagination
from config.schema import error_responses
from merchandising.models import QueryRule
from merchandising.permissions import RulePermission
from merchandising.selectors import rule_get, rule_list, rule_warnings
from merchandising.serializers import (
    RuleInputSerializer,
    RuleOutputSerializer,
    RulePageSerializer,
)
from merchandising.services import RuleFields, actor_for_key, rule_create, rule_delete, rule_update


def _actor(request: Request) -> Any:
    """Who the admin log names: the signed-in staff member, else the API key's own user."""
    if request_key(request) is None and request.user is not None:
        return request.user
    key = request_key(request)
    return actor_for_key(prefix=key.prefix if key is not None else None)


def _rule_or_404(rule_id: int) -> QueryRule:
    rule = rule_get(rule_id=rule_id)
    if rule is None:
        raise NotFound("No rule with this id.")
    return rule


def _body(rule: QueryRule) -> dict[str, Any]:
    return RuleOutputSerializer(rule, context={"warnings": rule_warnings(rules=[rule])}).data


class RuleView(APIView):
    required_scope = Scope.SEARCH_ADMIN
    # A staff member signed in to the console may call this too; DRF checks its CSRF token.
    authentication_classes = [ApiKeyAuthentication, SessionAuthentication]
    # The key's scope first; then, for a session, the admin's permission for the method.
    permission_classes = [ApiKeyPolicy, RulePermission]


class RuleListView(RuleView):
    pagination_class = page_size_pagination(50, 200)

    @extend_schema(
        operation_id="search_rules_list",
        summary="List query rules",
        parameters=pagination_class.schema_parameters(),
        responses={200: RulePageSerializer, **error_responses(400, 404)},
    )
    def get(self, request: Request) -> Response:
        paginator = self.pagination_class()
        rows = paginator.paginate_queryset(rule_list(), request, view=self)
        context = {"warnings": rule_warnings(rules=rows)}
        return paginator.get_paginated_response(
            RuleOutputSerializer(rows, many=True, context=context).data
        )

    @extend_schema(
        operation_id="search_rules_create",
        summary="Create a query rule",
        request=RuleInputSerializer,
        responses={201: RuleOutputSerializer, **error_responses(400)},
    )
    def post(self, request: Request) -> Response:
        params = RuleInputSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        rule = rule_create(fields=params.to_fields(), actor=_actor(request))
        return Response(_body(rule), status=status.HTTP_201_CREATED)


class RuleDetailView(RuleView):
    @extend_schema(
        operation_id="search_rules_retrieve",
        summary="Read a query rule",
        responses={200: RuleOutputSerializer, **error_responses(404)},
    )
    def get(self, request: Request, rule_id: int) -> Response:
        return Response(_body(_rule_or_404(rule_id)))

    @extend_schema(
        operation_id="search_rules_replace",
        summary="Replace a query rule",
        request=RuleInputSerializer,
        responses={200: RuleOutputSerializer, **error_responses(400, 404)},
    )
    def put(self, request: Request, rule_id: int) -> Response:
        return self._change(request, rule_id, partial=False)

    @extend_schema(
        operation_id="search_rules_update",
        summary="Change part of a query rule",
        request=RuleInputSerializer(partial=True),
        responses={200: RuleOutputSerializer, **error_responses(400, 404)},
    )
    def patch(self, request: Request, rule_id: int) -> Response:
        return self._change(request, rule_id, partial=True)

    @extend_schema(
        operation_id="search_rules_delete",
        summary="Delete a query rule",
        responses={204: None, **error_responses(404)},
    )
    def delete(self, request: Request, rule_id: int) -> Response:
        rule_delete(rule=_rule_or_404(rule_id), actor=_actor(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _change(self, request: Request, rule_id: int, *, partial: bool) -> Response:
        rule = _rule_or_404(rule_id)
        params = RuleInputSerializer(data=request.data, partial=partial)
        params.is_valid(raise_exception=True)
        fields = params.to_fields(RuleFields.of(rule) if partial else None)
        return Response(_body(rule_update(rule=rule, fields=fields, actor=_actor(request))))
