"""The limits of an order placement, read by the input serializer, the service and the model."""

# Ids are bigint; a larger number cannot name a row and must be a 400, not a database error.
MAX_ID = 2**63 - 1
MAX_LINES = 100
MIN_QUANTITY = 1
MAX_QUANTITY = 10_000
MAX_IDEMPOTENCY_KEY_LENGTH = 255
# An Idempotency-Key's owner: "key:<prefix>" or "ip:<address>" (an IPv6 address is at most 45).
MAX_CALLER_LENGTH = 64
