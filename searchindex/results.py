"""Typed results of a search and of a suggestion, as the views serialise them."""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class ProductHit:
    id: int
    title: str
    description: str
    price: Decimal
    category_id: int
    category_name: str
    created_at: datetime
    in_stock: bool
    highlight: dict[str, str]
    inventory_quantity: int | None = None  # only with a store: read from Postgres, exact
    explain: dict[str, Any] | None = None  # only with `explain=true` (searchindex/explain.py)
    sku: str | None = None
    brand: str | None = None
    image_url: str | None = None


@dataclass(frozen=True)
class CategoryCount:
    id: int
    name: str
    count: int


@dataclass(frozen=True)
class BrandCount:
    name: str
    count: int


@dataclass(frozen=True)
class PriceRangeCount:
    from_: Decimal | None
    to: Decimal | None
    count: int


@dataclass(frozen=True)
class SearchFacets:
    categories: list[CategoryCount]
    price_ranges: list[PriceRangeCount]
    brands: list[BrandCount]
    in_stock: int


@dataclass(frozen=True)
class ProductSearchResult:
    count: int
    hits: list[ProductHit]
    facets: SearchFacets
    # A corrected query that finds clearly more, else None; when the query as typed found
    # nothing, `relaxed` says another query (`query_used`) produced these results.
    did_you_mean: str | None = None
    relaxed: bool = False
    query_used: str | None = None
    took_ms: int | None = None  # Elasticsearch's own `took`, for search analytics
    rules_applied: list[dict[str, Any]] | None = None  # only with `explain=true`


@dataclass(frozen=True)
class SuggestedProduct:
    id: int
    title: str
    price: Decimal
    image_url: str | None
    in_stock: bool


@dataclass(frozen=True)
class Suggestions:
    query: str
    titles: list[str] = field(default_factory=list)
    took_ms: int | None = None  # summed over the requests sent; None when served from the cache
    products: list[SuggestedProduct] | None = None  # only when asked for (`products=N`)
