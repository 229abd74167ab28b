"""query_id tokens: compact, verified without a lookup, bound to the caller, valid 24 h."""

import time

import pytest

from searchevents.query_ids import Kind, TokenError, query_id_issue, query_id_verify

CALLER = "key:AbCd1234"


def test_a_token_verifies_for_its_caller_and_names_its_search():
    issued = query_id_issue(caller=CALLER, kind=Kind.SEARCH)
    verified = query_id_verify(issued.token, caller=CALLER)
    assert verified == issued
    assert verified.kind == Kind.SEARCH
    assert issued.token.startswith("q1.s")
    assert len(issued.token) <= 48


def test_two_searches_get_different_ids():
    first = query_id_issue(caller=CALLER, kind=Kind.SEARCH)
    second = query_id_issue(caller=CALLER, kind=Kind.SEARCH)
    assert first.search_id != second.search_id


def test_another_callers_token_is_foreign():
    issued = query_id_issue(caller="key:other000", kind=Kind.SUGGEST)
    assert query_id_verify(issued.token, caller=CALLER) is TokenError.FOREIGN
    assert query_id_verify(issued.token, caller="ip:127.0.0.1") is TokenError.FOREIGN


@pytest.mark.parametrize("part", [1, 2, 3, 4])
def test_editing_any_part_of_a_token_voids_it(part):
    parts = query_id_issue(caller=CALLER, kind=Kind.SEARCH).token.split(".")
    edited = parts[part]
    parts[part] = edited[:-1] + ("A" if edited[-1] != "A" else "B")
    assert query_id_verify(".".join(parts), caller=CALLER) is TokenError.INVALID


def test_a_token_claiming_another_caller_tag_cannot_be_made_without_the_secret():
    mine = query_id_issue(caller=CALLER, kind=Kind.SEARCH).token.split(".")
    theirs = query_id_issue(caller="key:other000", kind=Kind.SEARCH).token.split(".")
    mine[3] = theirs[3]  # claim the other caller's tag, keep my MAC
    assert query_id_verify(".".join(mine), caller="key:other000") is TokenError.INVALID


def test_a_token_past_24_hours_is_expired():
    old = query_id_issue(caller=CALLER, kind=Kind.SEARCH, issued_at=int(time.time()) - 86_401)
    assert query_id_verify(old.token, caller=CALLER) is TokenError.EXPIRED
    nearly = query_id_issue(caller=CALLER, kind=Kind.SEARCH, issued_at=int(time.time()) - 86_000)
    assert query_id_verify(nearly.token, caller=CALLER) == nearly


def test_a_token_signed_with_another_secret_is_invalid(settings):
    issued = query_id_issue(caller=CALLER, kind=Kind.SEARCH)
    settings.SECRET_KEY = "another-secret-" + "x" * 50
    assert query_id_verify(issued.token, caller=CALLER) is TokenError.INVALID
    settings.SECRET_KEY_FALLBACKS = []


def test_a_rotated_secret_still_verifies_the_days_tokens(settings):
    issued = query_id_issue(caller=CALLER, kind=Kind.SEARCH)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "the-new-secret-" + "y" * 50
    assert query_id_verify(issued.token, caller=CALLER) == issued
    assert query_id_verify(issued.token, caller="key:other000") is TokenError.FOREIGN


@pytest.mark.parametrize(
    "token",
    [None, 42, ["q1"], "", "q1", "q1....", "q1.s.x.y.z", "x" * 10_000, "q2.sAAAA.1.abc.def", "é"],
)
def test_garbage_is_invalid_and_never_raises(token):
    assert query_id_verify(token, caller=CALLER) is TokenError.INVALID
