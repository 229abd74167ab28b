"""Catalogue import: read a retailer's file, validate every line, upsert products by sku.

Modules, lowest first: `mapping` (which source field feeds each product field), `values` (one
field's checks), `files` (plain/gzip/zip, the format's name), `formats` (JSON Lines, CSV/TSV, ES
bulk records), `lines` (one record into a product row), `results`, `options`, `writing` (upsert,
categories, delete-missing) and `service` (`catalog_import`, the one transaction).
"""

from catalog.importing.files import FORMATS, source_from_path
from catalog.importing.mapping import FIELDS, FieldMapping, mapping_build
from catalog.importing.options import DEFAULT_BATCH, DEFAULT_CATEGORY, ImportOptions
from catalog.importing.results import ImportProblem, ImportResult
from catalog.importing.service import ProgressCallback, catalog_import

__all__ = [
    "DEFAULT_BATCH",
    "DEFAULT_CATEGORY",
    "FIELDS",
    "FORMATS",
    "FieldMapping",
    "ImportOptions",
    "ImportProblem",
    "ImportResult",
    "ProgressCallback",
    "catalog_import",
    "mapping_build",
    "source_from_path",
]
