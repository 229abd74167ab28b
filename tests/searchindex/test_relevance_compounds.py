"""bench/relevance_compounds.py: compounds found in titles, and success@k of their queries."""

from bench.relevance_compounds import Compound, compounds, success_at, title_words

# "dish" and "washer" each stand alone in three titles; "dishwasher" is never written apart.
TITLES = [
    "Bosch Dishwasher 24 inch",
    "Dish Rack",
    "Dish Soap",
    "Ceramic Dish",
    "Washer Dryer Combo",
    "Pressure Washer",
    "Washer Hose",
    "Tea Light",
    "Tea Light Candles",
]


def test_title_words_are_case_folded_letter_runs():
    assert title_words("T-Shirt 3-Pack, Men's") == ["t", "shirt", "pack", "men", "s"]


def test_a_word_made_of_two_catalogue_words_is_a_compound():
    assert compounds(TITLES, limit=10) == [Compound("dishwasher", "dish", "washer")]


def test_a_compound_the_catalogue_also_writes_apart_is_left_out():
    assert compounds([*TITLES, "Dish Washer Pods"], limit=10) == []


def test_parts_seen_in_fewer_than_three_other_titles_do_not_make_a_compound():
    # "tea" and "light" are only ever together, and twice: "tealight" is not split.
    assert compounds([*TITLES, "Tealight Holder"], limit=10) == [
        Compound("dishwasher", "dish", "washer")
    ]


def test_the_sample_is_capped_and_the_same_every_time():
    many = [*TITLES, "Dishboard Set", "Board Game", "Board Book", "Cutting Board"]
    every = compounds(many, limit=10)
    assert len(every) == 2
    assert compounds(many, limit=1) == compounds(many, limit=1)
    assert len(compounds(many, limit=1)) == 1


def test_split_form_of_a_compound_is_its_parts_apart():
    assert Compound("dishwasher", "dish", "washer").split == "dish washer"


def test_success_at_k_counts_cases_whose_top_k_holds_the_word_as_written():
    words_of = {
        "a": frozenset({"bosch", "dishwasher"}),
        "b": frozenset({"dish", "rack"}),
    }
    rankings = {"dishwasher": ["a"], "dish washer": ["b", "a"], "tea light": []}
    cases = [("dishwasher", "dishwasher"), ("dish washer", "dishwasher"), ("tea light", "tealight")]
    assert success_at(rankings, cases, words_of, 1) == 1 / 3
    assert success_at(rankings, cases, words_of, 10) == 2 / 3
    assert success_at(rankings, [], words_of, 10) == 0.0
