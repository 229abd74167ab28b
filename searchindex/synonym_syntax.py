"""Synonym rules as Solr lines: splitting, validating and writing the terms of one rule."""

import re

from django.core.exceptions import ValidationError

TERM_MAX_CHARS = 50
TERMS_MAX = 20
# A term is words: letters and digits, joined by spaces and the punctuation product names use.
# Anything else is either Solr syntax ("," "=>" "\\" "#" at a line's start) or analyses to no
# token at all, which Lucene refuses when it builds the synonym map - and with it the index.
_TERM = re.compile(r"[^\W_]+(?:[ '&.\-]+[^\W_]+)*[.]?")


def terms_split(text: str) -> list[str]:
    """The comma-separated terms, trimmed, lowercased, inner whitespace made single spaces."""
    return [" ".join(term.split()).lower() for term in text.split(",")]


def _terms_check(terms: list[str]) -> list[str]:
    errors = []
    if any(not term for term in terms):
        errors.append("Empty term: remove the extra comma.")
    if len(terms) > TERMS_MAX:
        errors.append(f"At most {TERMS_MAX} terms in one rule.")
    for term in filter(None, terms):
        if len(term) > TERM_MAX_CHARS:
            errors.append(f"“{term[:20]}…” is longer than {TERM_MAX_CHARS} characters.")
        elif "=>" in term:
            errors.append(f"“{term}”: write a one-way mapping's target in “Maps to”, not “=>”.")
        elif not _TERM.fullmatch(term):
            errors.append(
                f"“{term}”: only letters, digits, spaces and the characters ' & . - are allowed."
            )
    return errors


def rule_clean(*, terms: str, maps_to: str) -> tuple[str, str]:
    """The rule's fields written canonically; ValidationError per field for anything invalid."""
    left = terms_split(terms)
    right = terms_split(maps_to) if maps_to.strip() else []
    errors: dict[str, list[str]] = {}
    if left_errors := _terms_check(left):
        errors["terms"] = left_errors
    elif not right and len(set(left)) < 2:
        errors["terms"] = ["Give at least two different terms, or a term and “Maps to”."]
    if right_errors := _terms_check(right):
        errors["maps_to"] = right_errors
    if errors:
        raise ValidationError(errors)
    return ", ".join(left), ", ".join(right)


def rule_line(terms: str, maps_to: str) -> str:
    """The Solr line: "a, b" (equivalent) or "a, b => c" (one way)."""
    return f"{terms} => {maps_to}" if maps_to else terms
