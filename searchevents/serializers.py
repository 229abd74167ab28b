"""Input and output shapes of `POST /api/search/events/`."""

from rest_framework import serializers

from searchevents.intake import MAX_EVENT_ID_LENGTH, MAX_EVENTS, MAX_POSITION
from searchevents.models import EventType


class SearchEventSchemaSerializer(serializers.Serializer):
    """One event, as documented; each is checked on its own (a bad one is rejected, not a 400)."""

    type = serializers.ChoiceField(choices=EventType.choices)
    query_id = serializers.CharField(help_text="From the search or suggest response.")
    product_id = serializers.IntegerField(min_value=1)
    position = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_POSITION,
        help_text="1-based, absolute across pages; required for clicks.",
    )
    event_id = serializers.CharField(
        required=False,
        max_length=MAX_EVENT_ID_LENGTH,
        help_text="The client's id: a repeat from the same caller is accepted once.",
    )


class SearchEventsInputSerializer(serializers.Serializer):
    # Items are any JSON here: a malformed event is that event's rejection, not the batch's 400.
    events = serializers.ListField(
        child=serializers.JSONField(), allow_empty=False, max_length=MAX_EVENTS
    )


class SearchEventsSchemaInputSerializer(serializers.Serializer):
    # The stubs do not know `many=True` passes `max_length` on to the ListSerializer.
    events = SearchEventSchemaSerializer(  # type: ignore[call-arg]
        many=True, allow_empty=False, max_length=MAX_EVENTS
    )


class RejectedEventOutputSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    code = serializers.CharField(
        help_text="`query_id_invalid`, `query_id_expired`, `query_id_foreign`, "
        "`product_not_in_results`, `position_mismatch` or `invalid_event`."
    )


class SearchEventsOutputSerializer(serializers.Serializer):
    accepted = serializers.IntegerField()
    rejected = RejectedEventOutputSerializer(many=True)
