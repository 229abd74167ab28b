"""The pure rule engine: normalising, matching, precedence, pins, hides, boosts, replacement."""

from datetime import UTC, datetime, timedelta

from merchandising.matching import (
    CONTAINS,
    EXACT,
    AppliedBoost,
    Boost,
    Pin,
    Rule,
    RuleIndex,
    boost_weights,
    effects_for,
    effects_of,
    normalise,
    page_slots,
    place_pins,
    rules_matching,
)

NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)


def rule(rule_id: int, query: str, match: str = EXACT, **kwargs) -> Rule:
    return Rule(id=rule_id, name=f"rule {rule_id}", words=normalise(query), match=match, **kwargs)


def matching(rules: list[Rule], q: str, store_id: int | None = None) -> list[int]:
    return [r.id for r in rules_matching(RuleIndex(rules), q=q, store_id=store_id, now=NOW)]


def test_normalise_folds_case_accents_punctuation_and_spacing():
    assert normalise("  Crème-Brûlée,  MILK!! ") == ("creme", "brulee", "milk")
    assert normalise("?!*") == ()


def test_exact_needs_the_same_words():
    rules = [rule(1, "oat milk")]
    assert matching(rules, "Oat  MILK") == [1]
    assert matching(rules, "oat-milk!") == [1]
    assert matching(rules, "organic oat milk") == []


def test_contains_needs_the_words_contiguous_and_in_order():
    rules = [rule(1, "oat milk", CONTAINS)]
    assert matching(rules, "organic oat milk 1l") == [1]
    assert matching(rules, "oat milk") == [1]
    assert matching(rules, "milk oat") == []
    assert matching(rules, "oat organic milk") == []
    assert matching(rules, "oatmilk") == []


def test_stores_null_is_every_store_and_no_store_sees_only_those():
    everywhere, store_two = rule(1, "milk"), rule(2, "milk", stores=frozenset({2}))
    assert matching([everywhere, store_two], "milk") == [1]
    assert matching([everywhere, store_two], "milk", store_id=2) == [2, 1]
    assert matching([everywhere, store_two], "milk", store_id=3) == [1]


def test_inactive_outside_the_window():
    hour = timedelta(hours=1)
    rules = [
        rule(1, "milk", starts_at=NOW + hour),
        rule(2, "milk", ends_at=NOW),
        rule(3, "milk", starts_at=NOW - hour, ends_at=NOW + hour),
        rule(4, "milk", starts_at=NOW),
    ]
    assert matching(rules, "milk") == [3, 4]


def test_precedence_priority_then_exact_then_store_limited_then_older():
    rules = [
        rule(1, "milk", CONTAINS),
        rule(2, "milk"),
        rule(3, "milk", stores=frozenset({1})),
        rule(4, "milk", priority=5, match=CONTAINS),
        rule(5, "milk", CONTAINS, stores=frozenset({1})),
        rule(6, "milk"),
    ]
    assert matching(rules, "milk", store_id=1) == [4, 3, 2, 6, 5, 1]


def test_pins_in_rule_order_taken_position_moves_on_and_earlier_rule_keeps_a_product():
    first = rule(1, "milk", priority=2, pins=(Pin(10, 1), Pin(11, 2)))
    second = rule(2, "milk", priority=1, pins=(Pin(12, 1), Pin(10, 5)))
    effects = effects_of([first, second])
    assert [(p.product_id, p.position) for p in effects.pins] == [(10, 1), (11, 2), (12, 1)]
    placement = place_pins(effects.pins, valid={10, 11, 12}, organic_total=50)
    assert placement.positions == {1: 10, 2: 11, 3: 12}
    assert placement.rule_of == {10: 1, 11: 1, 12: 2}


def test_hide_beats_pin_and_every_rules_hides_apply():
    effects = effects_of([rule(1, "milk", pins=(Pin(10, 1),)), rule(2, "milk", hide=(10, 11))])
    assert effects.hidden == {10, 11}
    assert effects.pins == ()


def test_first_replacement_only():
    effects = effects_of(
        [rule(1, "milk", replace_query="dairy milk"), rule(2, "milk", replace_query="cheese")]
    )
    assert (effects.replace_query, effects.replace_rule_id) == ("dairy milk", 1)


def test_pin_failing_filters_is_skipped_and_pins_past_the_end_are_appended():
    effects = effects_of([rule(1, "milk", pins=(Pin(10, 1), Pin(11, 2), Pin(12, 9), Pin(13, 30)))])
    placement = place_pins(effects.pins, valid={11, 12, 13}, organic_total=3)
    # 11 keeps position 2 (10 failed; the others close the gap around it); 12 and 13 asked for
    # positions past the 3 others and 11, so they come last, in their order.
    assert placement.positions == {2: 11, 5: 12, 6: 13}


def test_page_slots_are_absolute_across_pages():
    placement = place_pins(
        effects_of([rule(1, "q", pins=(Pin(100, 1), Pin(101, 3), Pin(102, 22)))]).pins,
        valid={100, 101, 102},
        organic_total=40,
    )
    first = page_slots(placement, offset=0, size=4, total=43)
    assert first.slots == [("pin", 100), ("organic", 0), ("pin", 101), ("organic", 1)]
    second = page_slots(placement, offset=20, size=4, total=43)
    assert second.organic_from == 18
    assert second.slots == [("organic", 18), ("pin", 102), ("organic", 19), ("organic", 20)]
    last = page_slots(placement, offset=40, size=20, total=43)
    assert last.slots == [("organic", 37), ("organic", 38), ("organic", 39)]


def test_boosts_multiply_per_combination_and_clamp():
    brand, category = ("brand.raw", "amul"), ("category.id", (3,))
    boosts = [
        AppliedBoost(brand, 4.0, "b", 1),
        AppliedBoost(brand, 4.0, "b", 2),
        AppliedBoost(category, 0.5, "c", 1),
    ]
    functions, exact = boost_weights(boosts)
    assert exact
    assert functions == [([brand, category], 8.0), ([brand], 10.0), ([category], 0.5)]
    functions, _ = boost_weights(
        [AppliedBoost(brand, 0.2, "b", 1), AppliedBoost(brand, 0.2, "b", 2)]
    )
    assert functions == [([brand], 0.1)]


def test_rule_boosts_carry_through_effects():
    effects = effects_of([rule(1, "milk", boosts=(Boost(("brand.raw", "amul"), 2.0, "brand"),))])
    assert effects.boosts == (AppliedBoost(("brand.raw", "amul"), 2.0, "brand", 1),)


def test_a_thousand_rules_match_by_lookup():
    rules = [rule(i, f"word{i} thing", CONTAINS if i % 2 else EXACT) for i in range(1, 1001)]
    assert matching(rules, "big word7 thing here") == [7]
    assert matching(rules, "word8 thing") == [8]
    assert matching(rules, "nothing") == []


def test_remembered_effects_change_when_a_window_opens_or_closes():
    hour = timedelta(hours=1)
    index = RuleIndex([rule(1, "milk", starts_at=NOW + hour, ends_at=NOW + 2 * hour, hide=(5,))])
    assert effects_for(index, q="milk", store_id=None, now=NOW).hidden == frozenset()
    assert effects_for(index, q="MILK", store_id=None, now=NOW + hour).hidden == {5}
    assert effects_for(index, q="milk", store_id=None, now=NOW + 2 * hour).hidden == frozenset()
    assert effects_for(index, q="milk", store_id=None, now=NOW + hour / 2).hidden == frozenset()
