"""searchindex/query_forms.py and title_parts.py: joined forms, excluded words, title heads."""

import pytest

from searchindex.query_forms import MAX_JOINED_FORMS, excluded_words, joined_forms
from searchindex.title_parts import head_noun, title_head


def test_joined_forms_join_each_adjacent_pair_once():
    assert joined_forms("dish washer safe") == ["dishwasher safe", "dish washersafe"]
    assert joined_forms("  t   shirt ") == ["tshirt"]


def test_a_single_word_has_no_joined_form():
    assert joined_forms("dishwasher") == []
    assert joined_forms("") == []


def test_joined_forms_stop_at_the_limit():
    words = " ".join(f"w{n}" for n in range(10))
    assert len(joined_forms(words)) == MAX_JOINED_FORMS
    assert joined_forms("a b c", limit=1) == ["ab c"]


@pytest.mark.parametrize(
    ("query", "excluded"),
    [
        ("toddler water bottle without straw", "straw"),
        ("wireless thermostat WITHOUT c wire", "c wire"),
        # What the shopper wants cannot also be what they want left out.
        ("dewalt tool cases without tools", ""),
        ("silverware box without silverware lids", "lids"),
        ("without straw", ""),  # nothing to be without
        ("water bottle", ""),
        ("withoutstraw bottle", ""),
    ],
)
def test_excluded_words_are_those_after_without(query, excluded):
    assert excluded_words(query) == excluded


@pytest.mark.parametrize(
    ("title", "head", "noun"),
    [
        ("WINGO Guitar Capo for Acoustic and Electric Guitars", "WINGO Guitar Capo", "Capo"),
        (
            "ANATYU Easy-Fit Metal Bands Compatible Fitbit Charge 3",
            "ANATYU Easy-Fit Metal Bands",
            "Bands",
        ),
        ("Filter Fits Brita Pitchers", "Filter", "Filter"),
        (
            "YAMAHA FG800 Acoustic Guitar,Natural,Guitar Only",
            "YAMAHA FG800 Acoustic Guitar,Natural,Guitar Only",
            "Guitar",
        ),
        ("Kids Water Bottle w/ Straw Lid", "Kids Water Bottle w/ Straw Lid", "Bottle"),
        ("Wall Lamp with Plug in Cord", "Wall Lamp with Plug in Cord", "Lamp"),
        ("Guitar Stand - Black", "Guitar Stand - Black", "Stand"),
        ("For iPhone 12: Clear Case", "", ""),
        ("3-Pack 500ml", "3-Pack 500ml", ""),
    ],
)
def test_title_head_ends_at_a_connector_and_its_noun_at_the_name_end(title, head, noun):
    assert title_head(title) == head
    assert head_noun(title) == noun
