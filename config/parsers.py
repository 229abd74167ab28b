"""The API's JSON parser: DRF's, refusing documents nested too deeply to be honest input."""

from collections.abc import Mapping
from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError

# No request body of the contract nests deeper than 3 (an order: object > items > line).
# The cap leaves room for growth and stops a `[[[[...` body long before Python's recursion
# limit, which the json module hits at about 1,000 levels (a RecursionError: a 500).
MAX_JSON_DEPTH = 32


def _nested_deeper_than(value: Any, limit: int) -> bool:
    """Whether lists/objects nest more than `limit` levels; iterative, so any depth is safe."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


class JSONParser(parsers.JSONParser):
    """DRF's JSONParser; a body nested deeper than MAX_JSON_DEPTH is a 400 `malformed_request`."""

    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        message = f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels."
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(message) from None
        if isinstance(data, (dict, list)) and _nested_deeper_than(data, MAX_JSON_DEPTH):
            raise ParseError(message)
        return data
