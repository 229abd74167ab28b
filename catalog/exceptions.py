"""The catalog's domain errors: a catalogue file that cannot be read or holds invalid lines."""

from typing import Any

from config.errors import AisleError


class CatalogImportError(AisleError):
    """The file, its format or the options make an import impossible; nothing was written."""

    code = "catalog_import_failed"
    message = "The catalogue could not be imported."


class CatalogImportInvalid(CatalogImportError):
    """Some lines are invalid and the import is all-or-nothing; nothing was written."""

    code = "catalog_import_invalid"

    def __init__(self, *, problems: list[Any], rejected: int, records: int) -> None:
        self.problems = problems
        self.rejected = rejected
        self.records = records
        super().__init__(
            f"{rejected:,} of {records:,} lines are invalid; nothing was imported.",
            details={
                "problems": [{"line": p.line, "reasons": list(p.reasons)} for p in problems],
                "more": rejected - len(problems),
            },
        )
