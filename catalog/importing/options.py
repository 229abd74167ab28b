"""The options of one import, checked once when they are made."""

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import cast

from catalog.exceptions import CatalogImportError
from catalog.importing.files import FORMATS
from catalog.importing.mapping import FieldMapping
from catalog.importing.results import PROBLEM_LIMIT
from catalog.importing.values import InvalidValue, price_clean
from catalog.models import Product

DEFAULT_CATEGORY = "Uncategorised"
DEFAULT_BATCH = 2_000
# A CharField always has a max_length; Field in general may not.
SOURCE_MAX = cast(int, Product._meta.get_field("source").max_length)


@dataclass(frozen=True)
class ImportOptions:
    """How to import a file. The defaults import JSON Lines/CSV with same-named fields, all or
    nothing, without deleting anything.

    - `source`: the catalogue source products are stamped with (default: the file's name
      without its extensions); required with `delete_missing`, which deletes only that source's
      products the file no longer lists.
    - `default_price`: the price of a NEW product whose line has none (else such a line is
      invalid); an existing product whose line has no price keeps its price.
    - `skip_invalid`: import the valid lines instead of nothing; `rejects_path` receives every
      invalid line either way (JSON Lines: line, reasons, text).
    - `problem_limit`: how many problems, by line, the result and the error keep.
    """

    mapping: FieldMapping = field(default_factory=FieldMapping.default)
    file_format: str | None = None
    source: str | None = None
    default_price: Decimal | None = None
    default_category: str = DEFAULT_CATEGORY
    category_separator: str = ">"
    skip_invalid: bool = False
    rejects_path: Path | str | None = None
    delete_missing: bool = False
    batch_size: int = DEFAULT_BATCH
    problem_limit: int = PROBLEM_LIMIT

    def __post_init__(self) -> None:
        if self.file_format is not None and self.file_format not in FORMATS:
            raise CatalogImportError(
                f"unknown format {self.file_format!r}; one of {', '.join(FORMATS)}"
            )
        if self.delete_missing and self.source is None:
            raise CatalogImportError("--delete-missing needs --source: it deletes only that source")
        if self.source is not None:
            source_check(self.source)
        if self.default_price is not None:
            try:
                # Frozen: the one place the options normalise a value they were given.
                object.__setattr__(self, "default_price", price_clean(self.default_price))
            except InvalidValue as exc:
                raise CatalogImportError(f"--default-price: {exc}") from None
        if self.batch_size < 1:
            raise CatalogImportError("the batch size must be at least 1")


def source_check(source: str) -> None:
    if not source.strip() or len(source) > SOURCE_MAX:
        raise CatalogImportError(f"the source must be 1 to {SOURCE_MAX} characters")
