"""Issuing a `query_id` for a search or suggest response: the token, and the hits it showed."""

from collections.abc import Sequence

from rest_framework.request import Request

from config.caller import caller
from searchevents.hits import hits_remember
from searchevents.query_ids import Kind, QueryId, query_id_issue


def query_id_for_response(
    request: Request,
    *,
    kind: Kind,
    product_ids: Sequence[int],
    first_position: int,
    query: str,
    store_id: int | None,
) -> QueryId:
    """A token bound to this request's caller, with the shown products kept for click checks.

    `first_position` is the absolute 1-based position of the first product (a later page
    starts past the earlier ones); `query` is the normalised text searched.
    """
    issued = query_id_issue(caller=caller(request), kind=kind)
    hits_remember(
        search_id=issued.search_id,
        product_ids=product_ids,
        first_position=first_position,
        query=query,
        store_id=store_id,
    )
    return issued
