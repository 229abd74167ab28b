"""The suggest cache key: one key per distinct request, never shared across parameters."""

import itertools

import pytest

from searchindex.cache import suggest_cache_key, suggestions_get, suggestions_set


def test_a_query_that_ends_like_a_store_id_does_not_share_the_store_requests_key():
    assert suggest_cache_key(q="tea b:3", store_id=None) != suggest_cache_key(q="tea b", store_id=3)


def test_distinct_requests_never_share_a_key():
    queries = ["tea", "tea:", "tea:3", "tea%3A3", "tea%", "tea%253A3", "tea b", "tea b:3", "a:b:c"]
    requests = list(itertools.product(queries, [None, 3, 33]))
    keys = {suggest_cache_key(q=q, store_id=store_id) for q, store_id in requests}
    assert len(keys) == len(requests)


def test_keys_keep_the_readable_normalised_query():
    assert suggest_cache_key(q="  Tea  Bags ", store_id=None) == "autocomplete:tea bags"
    assert suggest_cache_key(q="Café", store_id=7) == "autocomplete:café:7"
    assert suggest_cache_key(q="tea b:3", store_id=None) == "autocomplete:tea b%3A3"


@pytest.mark.django_db
def test_one_request_cannot_blank_another_requests_suggestions():
    suggestions_set(q="tea b:3", store_id=None, version="v1", titles=[])
    suggestions_set(q="tea b", store_id=3, version="v1", titles=["Tea Bags"])
    assert suggestions_get(q="tea b:3", store_id=None, version="v1") == []
    assert suggestions_get(q="tea b", store_id=3, version="v1") == ["Tea Bags"]
