"""Backports from newer Pythons; delete each once Aisle requires the version that has it."""

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any


def batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """itertools.batched, which arrives only in Python 3.12."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk
