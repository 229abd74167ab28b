"""What a title says the product is: the words before "for"/"compatible"/"fits", its head noun."""

import re

# After one of these a title names another product, the one this one serves or fits: "Case for
# iPhone 12", "Bands Compatible with Fitbit Charge 3", "Filter Fits Brita Pitchers". Hyphenated
# words ("Easy-Fit") are names, not connectors.
CONNECTORS = re.compile(
    r"(?<![\w-])(?:for|compatible|fits?|works with|replaces)(?![\w-])", re.IGNORECASE
)
# The name ends where details start: "Kids Water Bottle, 16 oz", "Stand - Black", "Lamp with Plug".
NAME_END = re.compile(r"[,|(\[;:]|\s[-–—]\s|(?<![\w-])(?:with|w/)(?![\w-])", re.IGNORECASE)
_LETTERS = re.compile(r"[^\W\d_]+")


def title_head(title: str) -> str:
    """The title before its first connector; "" when it starts with one ("For iPhone 12: Case")."""
    return CONNECTORS.split(title, maxsplit=1)[0].strip()


def head_noun(title: str) -> str:
    """The last all-letter word of the name the head starts with: "WINGO Guitar Capo for ..." ->
    "Capo", "Kids Water Bottle, 16 oz" -> "Bottle"; "" when there is none."""
    name = NAME_END.split(title_head(title), maxsplit=1)[0]
    words = [word for word in name.split() if _LETTERS.fullmatch(word)]
    return words[-1] if words else ""
