"""Relevance benchmark: Aisle's search against plain BM25 on human judgments (ESCI), NDCG@10.

One run, a few minutes:

  (1) imports the ESCI catalogue (6,764 products, an Elasticsearch bulk body in a zip) through
      `import_catalog`, as a retailer would, into the benchmark's own database, emptied first,
      and builds the index with `rebuild_index` behind a `bench-relevance-` alias;
  (2) runs the 150 judged queries through `product_search`, the function behind
      GET /api/search/products/, with the query object the view builds from `?q=...`; top 10;
  (3) indexes the same products into a second index, `bench-relevance-bm25`: title, bullet
      points, description and brand with Elasticsearch's standard analyzer, searched with one
      `multi_match` (title^2, nothing else boosted): the plain BM25 baseline;
  (4) prints, for both: NDCG@10 (gains 2^g - 1, g = 3 Exact, 2 Substitute, 1 Complement,
      0 Irrelevant or unjudged; bench/relevance_metrics.py), the same with linear gains, MRR of
      the first Exact, the zero-result rate and the share of unjudged hits in the top 10; the
      difference with a 95% paired-bootstrap interval; each half of the queries (every other
      one) alone; the share of Complement and of Irrelevant hits in the top 3 of the queries
      with an Exact product; and the 10 queries where Aisle loses most to BM25;
  (5) searches compounds generated from the catalogue's titles (bench/relevance_compounds.py)
      written joined and split, on both systems: success@1 and @10.

  .venv/bin/python bench/relevance.py [--data DIR] [--keep-index | --reuse-index] [--smoke]

The database is `aisle_bench_relevance` (BENCH_RELEVANCE_DATABASE_URL); both indices are
deleted at the end unless --keep-index. --reuse-index searches what a kept run left (for query
changes only: no import, no indexing). --smoke takes seconds: the products of a few queries, in
a database and indices of its own. The data (Apache-2.0, see its LICENSE.txt) is looked
for in `shared/data/relevance/esci` beside the checkout or a directory above it.
"""

import argparse
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from io import StringIO
from pathlib import Path
from typing import cast

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import (  # noqa: E402 - needs the repo on sys.path
    SMOKE,
    database_prepare,
    index_prefix,
    redis_delete,
)
from bench.relevance_compounds import Compound, compounds, success_at, title_words  # noqa: E402
from bench.relevance_metrics import (  # noqa: E402
    COMPLEMENT,
    EXACT,
    IRRELEVANT,
    K,
    load_judgments,
    load_products,
    load_queries,
    loss_lines,
    losses,
    per_query_ndcg,
    split_half,
    summarize,
    top_share,
)

DATA_PARTS = ("shared", "data", "relevance", "esci")
CATALOGUE = "esci_us_ecommerce_shrunk.ndjson.zip"
JUDGMENTS = "esci_us_judgments.json"
QUERIES = "esci_us_queryset.json"
# The command line docs/getting-started.md ("Importing a catalogue") gives for this file.
IMPORT_OPTIONS = (
    "--format=es-bulk",
    "--map=sku=asin",
    "--map=popularity=rating_count",
    "--map=attributes=bullet_points,color",
    "--default-price=0",
    "--source=esci",
    "--no-progress",
)
DATABASE_URL = os.environ.get(
    "BENCH_RELEVANCE_DATABASE_URL", "postgres://aisle:aisle@127.0.0.1:5432/aisle_bench_relevance"
)
REDIS_URL = os.environ.get("BENCH_RELEVANCE_REDIS_URL", "redis://127.0.0.1:6379/14")
INDEX_PREFIX = "bench-relevance-"
# A smoke run has indices of its own, so it never deletes those a full run kept.
SMOKE_INDEX_PREFIX = "bench-relevance-smoke-"
BASELINE_NAME = "bm25"
BASELINE_FIELDS = ["title^2", "bullet_points", "description", "brand"]
CACHE_PREFIX = f"aisle-bench-relevance-{os.getpid()}"
BOOTSTRAP_SAMPLES = 2_000
COMPOUNDS = 200  # generated compound queries, each written split and joined
# Smoke mode: the products judged for this many queries, and that many compounds from them.
SMOKE_QUERIES = 6
SMOKE_COMPOUNDS = 15
ACCESSORY_OR_MISS = frozenset({COMPLEMENT, IRRELEVANT})

os.environ.update(
    {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": DATABASE_URL,
        "REDIS_URL": REDIS_URL,
        "CACHE_KEY_PREFIX": CACHE_PREFIX,
        "ELASTICSEARCH_TIMEOUT": "120",  # bulk indexing on a shared 2-core machine
        "ELASTICSEARCH_SEARCH_TIMEOUT": "30",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        # Nothing listens: the import's after-commit drain is dropped; rebuild_index indexes.
        "CELERY_BROKER_URL": "redis://127.0.0.1:1/0",
        "DJANGO_DEBUG": "false",
        "LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "ERROR"),
    }
)

Rankings = dict[str, list[str]]


def say(message: str = "") -> None:
    print(message, flush=True)


def data_dir(given: Path | None) -> Path:
    if given is not None:
        return given
    for parent in ROOT.parents:
        candidate = parent.joinpath(*DATA_PARTS)
        if (candidate / CATALOGUE).exists():
            return candidate
    raise SystemExit(f"no {'/'.join(DATA_PARTS)} above {ROOT}; give --data DIR")


# --- Aisle -----------------------------------------------------------------------------------


def catalogue_import(path: Path) -> str:
    """Empty the catalogue, import the file through `import_catalog`; returns its summary line."""
    from django.core.management import call_command
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE catalog_product, catalog_category, searchindex_pendingindexupdate "
            "RESTART IDENTITY CASCADE"
        )
    out = StringIO()
    call_command("import_catalog", str(path), *IMPORT_OPTIONS, stdout=out)
    return out.getvalue().splitlines()[0]


def aisle_rankings(queries: Sequence[str], sku_of: Mapping[int, str]) -> Rankings:
    """Each query as GET /api/search/products/?q=...&page_size=10 runs it: the view's input
    serializer, then `product_search` with the query object the view builds."""
    from searchindex.queries import ProductSearchQuery
    from searchindex.search import product_search
    from searchindex.serializers import ProductSearchInputSerializer

    rankings: Rankings = {}
    for text in queries:
        params = ProductSearchInputSerializer(data={"q": text})
        params.is_valid(raise_exception=True)
        result = product_search(query=ProductSearchQuery(**params.validated_data, page_size=K))
        rankings[text] = [sku_of[hit.id] for hit in result.hits]
    return rankings


# --- plain BM25 ------------------------------------------------------------------------------


def baseline_build(es, index: str) -> None:
    """The same products, the issue's baseline fields, the standard analyzer; id = sku."""
    from elasticsearch.helpers import bulk

    from catalog.models import Product

    es.indices.delete(index=index, ignore_unavailable=True)
    text = {"type": "text"}  # the standard analyzer
    es.indices.create(
        index=index,
        settings={"number_of_shards": 1, "number_of_replicas": 0},
        mappings={
            "properties": dict.fromkeys(("title", "bullet_points", "description", "brand"), text)
        },
    )
    products = Product.objects.values_list("sku", "title", "description", "brand", "attributes")
    actions = (
        {
            "_index": index,
            "_id": sku,
            "_source": {
                "title": title,
                "bullet_points": attributes.get("bullet_points", ""),
                "description": description,
                "brand": brand,
            },
        }
        for sku, title, description, brand, attributes in products.iterator()
    )
    bulk(es, actions, chunk_size=1_000, refresh="wait_for")


def baseline_rankings(es, index: str, queries: Sequence[str]) -> Rankings:
    rankings: Rankings = {}
    for text in queries:
        hits = es.search(
            index=index,
            query={"multi_match": {"query": text, "fields": BASELINE_FIELDS}},
            size=K,
            source=False,
        )["hits"]["hits"]
        rankings[text] = [hit["_id"] for hit in hits]
    return rankings


# --- report ----------------------------------------------------------------------------------


def bootstrap_interval(
    ours: Mapping[str, float], theirs: Mapping[str, float], samples: int = BOOTSTRAP_SAMPLES
) -> tuple[float, float]:
    """A 95% paired-bootstrap interval of the mean per-query difference (fixed seed)."""
    differences = [ours[query] - theirs[query] for query in ours]
    rng = random.Random(7)
    means = sorted(
        sum(rng.choices(differences, k=len(differences))) / len(differences) for _ in range(samples)
    )
    return means[int(0.025 * samples)], means[int(0.975 * samples) - 1]


def report(
    aisle: Rankings,
    baseline: Rankings,
    judgments: Mapping[str, Mapping[str, int]],
    queries: Sequence[str],
    titles: Mapping[str, str],
) -> None:
    ours, theirs = summarize(aisle, judgments), summarize(baseline, judgments)
    rows = [
        ("NDCG@10 (gains 2^g - 1)", ours.ndcg, theirs.ndcg),
        ("NDCG@10 (linear gains)", ours.ndcg_linear, theirs.ndcg_linear),
        ("MRR of the first Exact", ours.mrr, theirs.mrr),
        ("zero-result rate", ours.zero_rate, theirs.zero_rate),
        ("unjudged share of the top 10", ours.unjudged_share, theirs.unjudged_share),
    ]
    for half_name, half in zip(("first", "second"), split_half(queries), strict=True):
        subset = {query: judgments[query] for query in half}
        rows.append(
            (
                f"NDCG@10, {half_name} half ({len(half)} q.)",
                summarize(aisle, subset).ndcg,
                summarize(baseline, subset).ndcg,
            )
        )
    for label, gains in (
        ("Complement + Irrelevant", ACCESSORY_OR_MISS),
        ("Complement", frozenset({COMPLEMENT})),
        ("Irrelevant", frozenset({IRRELEVANT})),
    ):
        ours_share = top_share(aisle, judgments, gains)
        rows.append((f"top 3*: {label}", ours_share, top_share(baseline, judgments, gains)))
    say(f"{'':32} {'Aisle':>7} {'BM25':>7} {'Aisle - BM25':>13}")
    for label, a, b in rows:
        say(f"{label:32} {a:7.3f} {b:7.3f} {a - b:+13.3f}")
    low, high = bootstrap_interval(
        per_query_ndcg(aisle, judgments), per_query_ndcg(baseline, judgments)
    )
    say(f"NDCG@10 difference, 95% paired bootstrap over queries: {low:+.3f} to {high:+.3f}")
    with_exact = sum(EXACT in judged.values() for judged in judgments.values())
    say(f"* share of the top-3 hits judged so, over the {with_exact} queries with an Exact product")
    lost = losses(aisle, baseline, judgments)
    say()
    say(f"The {len(lost)} queries where Aisle loses most to BM25 (top 3: Aisle | BM25):")
    for line in loss_lines(lost, titles):
        say(line)


def compound_report(
    found: Sequence[Compound],
    runs: Mapping[str, Callable[[Sequence[str]], Rankings]],
    titles: Mapping[str, str],
) -> None:
    """Each compound searched joined ("dishwasher") and split ("dish washer"): success@1 and @10
    are the shares whose top 1 and top 10 hold a title with the word as the catalogue writes it."""
    words_of = {sku: frozenset(title_words(title)) for sku, title in titles.items()}
    say(
        f"Compounds: {len(found)} title words made of two catalogue words never written apart "
        f"in a title (e.g. {', '.join(c.word + ' = ' + c.split for c in found[:3])})"
    )
    say(f"{'success (a title holding the word)':40} {'@1':>6} {'@10':>6}")
    for system, run in runs.items():
        for form in ("joined", "split"):
            cases = [(c.word if form == "joined" else c.split, c.word) for c in found]
            rankings = run([query for query, _ in cases])
            first, ten = (success_at(rankings, cases, words_of, k) for k in (1, K))
            say(f"{system + ', ' + form:40} {first:6.3f} {ten:6.3f}")


# --- the run ---------------------------------------------------------------------------------


def smoke_catalogue(path: Path, judgments: Mapping[str, Mapping[str, int]], into: Path) -> Path:
    """A bulk body of only the products judged for `judgments`' queries."""
    wanted = {doc for judged in judgments.values() for doc in judged}
    with into.open("w", encoding="utf-8") as out:
        for doc_id, document in load_products(path):
            if doc_id in wanted:
                out.write(json.dumps({"index": {"_id": doc_id}}) + "\n")
                out.write(json.dumps(document) + "\n")
    return into


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None, help="the ESCI directory")
    parser.add_argument("--keep-index", action="store_true", help="keep both indices")
    parser.add_argument(
        "--reuse-index",
        action="store_true",
        help="search the database and indices a --keep-index run left (only the query changed)",
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        default=SMOKE,
        help=f"seconds: the products of {SMOKE_QUERIES} queries, {SMOKE_COMPOUNDS} compounds"
        " (also BENCH_SMOKE=1)",
    )
    args = parser.parse_args()
    data = data_dir(args.data)
    started = time.perf_counter()
    prefix = index_prefix(SMOKE_INDEX_PREFIX if args.smoke else INDEX_PREFIX)
    os.environ["ELASTICSEARCH_INDEX_PREFIX"] = prefix
    baseline_index = f"{prefix}{BASELINE_NAME}"

    # A --smoke run has a database of its own too, so a full run's stays reusable (BENCH_SMOKE
    # runs, tests/test_bench_smoke.py's, are given one in BENCH_RELEVANCE_DATABASE_URL).
    database_url = f"{DATABASE_URL}_smoke" if "--smoke" in sys.argv else DATABASE_URL
    os.environ["DATABASE_URL"] = database_url
    database_prepare(env={**os.environ, "DATABASE_URL": database_url})
    import django

    django.setup()
    from django.core.management import call_command

    from catalog.models import Product
    from searchindex.client import ALIAS, admin_client

    es = admin_client(timeout=300)
    judgments = load_judgments(data / JUDGMENTS)
    queries = load_queries(data / QUERIES)
    if args.smoke:
        queries = queries[:SMOKE_QUERIES]
        judgments = {query: judgments[query] for query in queries}
    say(
        f"data: {data} (Amazon's Shopping Queries Dataset, ESCI, Reddy et al. 2022; via "
        "OpenSearch's Search Relevance Workbench; Apache-2.0)"
    )
    keep = args.keep_index or args.reuse_index
    try:
        if args.reuse_index:
            say(f"reusing the database and the indices {ALIAS} and {baseline_index}")
        else:
            with tempfile.TemporaryDirectory() as scratch:
                catalogue = data / CATALOGUE
                if args.smoke:
                    catalogue = smoke_catalogue(
                        catalogue, judgments, Path(scratch) / "smoke.ndjson"
                    )
                clock = time.perf_counter()
                summary = catalogue_import(catalogue)
            say(f"import_catalog: {summary} ({time.perf_counter() - clock:.1f} s)")
            clock = time.perf_counter()
            call_command("rebuild_index", "--no-progress", stdout=StringIO())
            baseline_build(es, baseline_index)
            say(f"indices: {ALIAS} and {baseline_index} ({time.perf_counter() - clock:.1f} s)")

        products = list(Product.objects.values_list("id", "sku", "title"))
        # Every imported ESCI product has a SKU (the import keys on it); the column is nullable.
        sku_of = {pk: cast(str, sku) for pk, sku, _ in products}
        titles = {cast(str, sku): title for _, sku, title in products}
        judged = {doc for ratings in judgments.values() for doc in ratings}
        missing = judged - set(titles)
        if missing:
            raise SystemExit(
                f"{len(missing)} judged products were not imported, e.g. {missing.pop()}"
            )

        clock = time.perf_counter()
        aisle = aisle_rankings(queries, sku_of)
        baseline = baseline_rankings(es, baseline_index, queries)
        say(
            f"{len(queries)} queries, {sum(map(len, judgments.values())):,} judgments, "
            f"{len(products):,} products ({time.perf_counter() - clock:.1f} s for both runs)"
        )
        say()
        report(aisle, baseline, judgments, queries, titles)
        say()
        found = compounds(titles.values(), limit=SMOKE_COMPOUNDS if args.smoke else COMPOUNDS)
        compound_report(
            found,
            {
                "Aisle": lambda texts: aisle_rankings(texts, sku_of),
                "BM25": lambda texts: baseline_rankings(es, baseline_index, texts),
            },
            titles,
        )
    finally:
        if not keep:
            names = list(es.indices.get(index=f"{prefix}*", allow_no_indices=True))
            if names:  # by name: wildcard deletes may be refused (destructive_requires_name)
                es.indices.delete(index=",".join(names))
        redis_delete(REDIS_URL, f"{CACHE_PREFIX}*")
    say(f"\ndone in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
