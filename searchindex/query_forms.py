"""Forms of the shopper's text the search scores besides the text itself: compounds, exclusions."""

import re

# Compounds joined at the first pairs only: each form is two more clauses in every search.
MAX_JOINED_FORMS = 4
_WITHOUT = re.compile(r"\s+without\s+", re.IGNORECASE)


def joined_forms(q: str, limit: int = MAX_JOINED_FORMS) -> list[str]:
    """`q` with one pair of adjacent words joined, for each of its first `limit` pairs:
    "dish washer safe" -> ["dishwasher safe", "dish washersafe"]."""
    words = q.split()
    return [
        " ".join([*words[:i], words[i] + words[i + 1], *words[i + 2 :]])
        for i in range(min(len(words) - 1, limit))
    ]


def _plain(word: str) -> str:
    return word.casefold().removesuffix("s")


def excluded_words(q: str) -> str:
    """The words `q` asks to be without ("bottle without straw" -> "straw"), less those the rest
    of it also holds ("tool cases without tools": the shopper wants tool cases, so "tools" cannot
    tell them apart); "" when it asks for nothing to be left out."""
    parts = _WITHOUT.split(q, maxsplit=1)
    if len(parts) < 2 or not parts[0].strip():
        return ""
    kept = {_plain(word) for word in parts[0].split()}
    return " ".join(word for word in parts[1].split() if _plain(word) not in kept)
