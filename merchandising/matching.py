"""The rule engine, pure: which rules match a query, and what they do together."""

import itertools
import math
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

EXACT = "exact"
CONTAINS = "contains"
MIN_FACTOR = 0.1
MAX_FACTOR = 10.0
# Exact boost combinations are enumerated per subset of distinct filters (2^n - 1 of them);
# past this many filters in one search the factors multiply with only the upper clamp.
MAX_EXACT_BOOST_FILTERS = 5

_NOT_WORD = re.compile(r"[\W_]+")


def normalise(text: str) -> tuple[str, ...]:
    """The words of `text`: accents, case, punctuation and spacing do not count."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return tuple(_NOT_WORD.sub(" ", bare.casefold()).split())


# A boost's filter as the query builder will apply it: a field and a hashable value
# (`("brand.raw", "amul")`, `("category.id", (3,))`). The engine only compares them.
BoostTerm = tuple[str, object]


@dataclass(frozen=True)
class Pin:
    product_id: int
    position: int


@dataclass(frozen=True)
class Boost:
    term: BoostTerm
    factor: float
    label: str  # for people: `brand "Amul"`


@dataclass(frozen=True)
class Rule:
    id: int
    name: str
    words: tuple[str, ...]
    match: str = EXACT
    priority: int = 0
    stores: frozenset[int] | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    pins: tuple[Pin, ...] = ()
    hide: tuple[int, ...] = ()
    boosts: tuple[Boost, ...] = ()
    replace_query: str | None = None

    def active(self, now: datetime) -> bool:
        if self.starts_at is not None and now < self.starts_at:
            return False
        return self.ends_at is None or now < self.ends_at

    def applies_to_store(self, store_id: int | None) -> bool:
        if self.stores is None:
            return True
        return store_id is not None and store_id in self.stores

    @property
    def precedence(self) -> tuple[int, int, int, int]:
        """Sort key: priority (higher first), exact before contains, store-limited before all
        stores, then the older rule."""
        return (-self.priority, self.match != EXACT, self.stores is None, self.id)


class RuleIndex:
    """Enabled rules, looked up by their words: a dict for `exact`, and for `contains` a dict
    probed with each run of the query's words of a length some rule has. A search costs a few
    dict look-ups whatever the number of rules."""

    def __init__(self, rules: Iterable[Rule]) -> None:
        self.exact: dict[tuple[str, ...], list[Rule]] = defaultdict(list)
        self.contains: dict[tuple[str, ...], list[Rule]] = defaultdict(list)
        for rule in rules:
            if not rule.words:
                continue
            (self.exact if rule.match == EXACT else self.contains)[rule.words].append(rule)
        self.lengths = sorted({len(words) for words in self.contains})
        self.size = sum(map(len, self.exact.values())) + sum(map(len, self.contains.values()))
        # (words, store) -> (effects, until when they hold): shoppers repeat queries, and the
        # answer changes only when a rule's window opens or closes (or the rules reload, which
        # makes a new index).
        self.memo: dict[tuple[tuple[str, ...], int | None], tuple[Effects, datetime | None]] = {}

    def __len__(self) -> int:
        return self.size

    def candidates(self, words: tuple[str, ...]) -> list[Rule]:
        found = list(self.exact.get(words, ()))
        for length in self.lengths:
            if length > len(words):
                break
            seen: set[tuple[str, ...]] = set()
            for start in range(len(words) - length + 1):
                run = words[start : start + length]
                if run not in seen:
                    seen.add(run)
                    found.extend(self.contains.get(run, ()))
        return found


MEMO_SIZE = 10_000


def effects_for(index: RuleIndex, *, q: str, store_id: int | None, now: datetime) -> "Effects":
    """`effects_of(rules_matching(...))`, remembered per normalised query and store until the
    next start or end of a candidate rule's window."""
    if not len(index):
        return NO_EFFECTS
    words = normalise(q)
    if not words:
        return NO_EFFECTS
    key = (words, store_id)
    remembered = index.memo.get(key)
    if remembered is not None and (remembered[1] is None or now < remembered[1]):
        return remembered[0]
    candidates = index.candidates(words)
    matching = sorted(
        (rule for rule in candidates if rule.active(now) and rule.applies_to_store(store_id)),
        key=lambda rule: rule.precedence,
    )
    effects = effects_of(matching)
    changes = [
        moment
        for rule in candidates
        for moment in (rule.starts_at, rule.ends_at)
        if moment is not None and moment > now
    ]
    if len(index.memo) >= MEMO_SIZE:
        index.memo.clear()
    index.memo[key] = (effects, min(changes, default=None))
    return effects


def rules_matching(index: RuleIndex, *, q: str, store_id: int | None, now: datetime) -> list[Rule]:
    """The active rules matching `q` at `store_id`, in precedence order."""
    if not len(index):
        return []
    words = normalise(q)
    if not words:
        return []
    matching = [
        rule
        for rule in index.candidates(words)
        if rule.active(now) and rule.applies_to_store(store_id)
    ]
    return sorted(matching, key=lambda rule: rule.precedence)


@dataclass(frozen=True)
class RequestedPin:
    product_id: int
    position: int
    rule_id: int


@dataclass(frozen=True)
class AppliedBoost:
    term: BoostTerm
    factor: float
    label: str
    rule_id: int


@dataclass(frozen=True)
class Effects:
    """What the matching rules do together, before the search knows which products pass."""

    rules: tuple[Rule, ...] = ()
    hidden: frozenset[int] = frozenset()
    pins: tuple[RequestedPin, ...] = ()  # in placement order; hidden and repeated ones left out
    boosts: tuple[AppliedBoost, ...] = ()
    replace_query: str | None = None
    replace_rule_id: int | None = None

    @property
    def empty(self) -> bool:
        return not self.rules

    @property
    def pinned_ids(self) -> list[int]:
        return [pin.product_id for pin in self.pins]


NO_EFFECTS = Effects()


def effects_of(rules: list[Rule]) -> Effects:
    """Combine rules given in precedence order: every hide and boost; pins in rule order, a
    product keeping its first rule's pin; the first replacement only. Hide beats pin."""
    if not rules:
        return NO_EFFECTS
    hidden = frozenset(pid for rule in rules for pid in rule.hide)
    pins: list[RequestedPin] = []
    pinned: set[int] = set()
    boosts: list[AppliedBoost] = []
    replace_query = replace_rule_id = None
    for rule in rules:
        for pin in sorted(rule.pins, key=lambda pin: pin.position):
            if pin.product_id in hidden or pin.product_id in pinned:
                continue
            pinned.add(pin.product_id)
            pins.append(RequestedPin(pin.product_id, pin.position, rule.id))
        boosts.extend(AppliedBoost(b.term, b.factor, b.label, rule.id) for b in rule.boosts)
        if replace_query is None and rule.replace_query:
            replace_query, replace_rule_id = rule.replace_query, rule.id
    return Effects(
        rules=tuple(rules),
        hidden=hidden,
        pins=tuple(pins),
        boosts=tuple(boosts),
        replace_query=replace_query,
        replace_rule_id=replace_rule_id,
    )


def clamp(factor: float) -> float:
    return min(MAX_FACTOR, max(MIN_FACTOR, factor))


def boost_weights(
    boosts: Iterable[AppliedBoost],
) -> tuple[list[tuple[list[BoostTerm], float]], bool]:
    """Scoring functions for the boosts: `([(terms, weight)], exact)`.

    `exact`: one function per combination of distinct filters, the largest first, each weighing
    the clamped product of its factors; applied with `score_mode: first`, a product gets the
    weight of exactly the filters it matches. Otherwise one function per filter, to multiply
    (clamped above by the caller's `max_boost`)."""
    per_term: dict[BoostTerm, float] = {}
    for boost in boosts:
        per_term[boost.term] = per_term.get(boost.term, 1.0) * boost.factor
    terms = list(per_term)
    if len(terms) > MAX_EXACT_BOOST_FILTERS:
        return [([term], clamp(per_term[term])) for term in terms], False
    functions: list[tuple[list[BoostTerm], float]] = []
    for size in range(len(terms), 0, -1):
        for combo in itertools.combinations(terms, size):
            weight = clamp(math.prod(per_term[term] for term in combo))
            functions.append((list(combo), weight))
    return functions, True


@dataclass(frozen=True)
class Placement:
    """Where pins land in the whole result list: absolute 1-based position -> product id."""

    positions: dict[int, int] = field(default_factory=dict)
    rule_of: dict[int, int] = field(default_factory=dict)  # product id -> the rule that pinned it

    def pins_before(self, position: int) -> int:
        return sum(1 for placed in self.positions if placed < position)


def place_pins(pins: Iterable[RequestedPin], *, valid: set[int], organic_total: int) -> Placement:
    """Positions of the pins whose products passed the search's filters.

    In placement order, a pin wanting a taken position takes the next free one; then, by
    position, a pin beyond the end of the list (the other results and the earlier pins) is
    appended at its end."""
    wanted: dict[int, RequestedPin] = {}
    for pin in pins:
        if pin.product_id not in valid:
            continue
        position = pin.position
        while position in wanted:
            position += 1
        wanted[position] = pin
    positions: dict[int, int] = {}
    rule_of: dict[int, int] = {}
    for placed, (position, pin) in enumerate(sorted(wanted.items())):
        final = min(position, organic_total + placed + 1)
        positions[final] = pin.product_id
        rule_of[pin.product_id] = pin.rule_id
    return Placement(positions=positions, rule_of=rule_of)


@dataclass(frozen=True)
class PageSlots:
    """A page of the merged list: for each row, a pinned product id or an organic index."""

    slots: list[tuple[str, int]]  # ("pin", product_id) or ("organic", index from 0)
    organic_from: int  # the first organic index the page needs


def page_slots(placement: Placement, *, offset: int, size: int, total: int) -> PageSlots:
    """Rows `offset`..`offset + size` (from 0) of the list of `total` results."""
    before = placement.pins_before(offset + 1)
    organic = offset - before
    slots: list[tuple[str, int]] = []
    for position in range(offset + 1, min(offset + size, total) + 1):
        product_id = placement.positions.get(position)
        if product_id is not None:
            slots.append(("pin", product_id))
        else:
            slots.append(("organic", organic))
            organic += 1
    return PageSlots(slots=slots, organic_from=offset - before)
