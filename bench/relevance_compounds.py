"""Compound queries generated from a catalogue's titles, written joined and split, and success@k."""

import random
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

# Letter runs, as a shopper would type a word: digits and punctuation split words.
_LETTERS = re.compile(r"[^\W\d_]+")
MIN_PART = 3  # shorter parts ("a", "in") split too many words into nonsense
# A part must be a word of the catalogue, not a fragment seen once ("sto" + "rage").
MIN_ELSEWHERE = 3


def title_words(title: str) -> list[str]:
    return [word.casefold() for word in _LETTERS.findall(title)]


@dataclass(frozen=True)
class Compound:
    """A title word that is two other catalogue words joined: "dishwasher" = "dish" + "washer"."""

    word: str
    head: str
    tail: str

    @property
    def split(self) -> str:
        return f"{self.head} {self.tail}"


def compounds(titles: Iterable[str], *, limit: int, seed: int = 7) -> list[Compound]:
    """Up to `limit` compounds (a random sample, fixed seed) found in `titles`.

    A title word is a compound when it splits into two words of at least MIN_PART letters that
    each occur in at least MIN_ELSEWHERE titles without it, and no title writes the two apart
    side by side: the split form can then only meet the joined one, which is what the check is
    about. Of several splits the one whose rarer part is most common wins ("dish|washer" over
    "dishw|asher")."""
    holding: dict[str, set[int]] = defaultdict(set)  # word -> the titles holding it
    pairs: set[tuple[str, str]] = set()
    for number, title in enumerate(titles):
        words = title_words(title)
        for word in words:
            holding[word].add(number)
        pairs.update(zip(words, words[1:], strict=False))
    found: list[Compound] = []
    for word in sorted(holding):
        best: tuple[int, Compound] | None = None
        for cut in range(MIN_PART, len(word) - MIN_PART + 1):
            head, tail = word[:cut], word[cut:]
            if (head, tail) in pairs or head not in holding or tail not in holding:
                continue
            elsewhere = min(len(holding[part] - holding[word]) for part in (head, tail))
            if elsewhere >= MIN_ELSEWHERE and (best is None or elsewhere > best[0]):
                best = (elsewhere, Compound(word, head, tail))
        if best is not None:
            found.append(best[1])
    if len(found) > limit:
        found = sorted(random.Random(seed).sample(found, limit), key=lambda c: c.word)
    return found


def success_at(
    rankings: Mapping[str, Sequence[str]],
    cases: Sequence[tuple[str, str]],
    words_of: Mapping[str, frozenset[str]],
    k: int,
) -> float:
    """The share of `(query, compound word)` cases whose top k holds a product whose title has
    that word (joined, as the catalogue writes it)."""
    if not cases:
        return 0.0
    hits = sum(
        any(word in words_of.get(doc_id, frozenset()) for doc_id in rankings.get(query, ())[:k])
        for query, word in cases
    )
    return hits / len(cases)
