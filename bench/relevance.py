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
      one) alone; and the 10 queries where Aisle loses most to BM25, with both top 3s.

  .venv/bin/python bench/relevance.py [--data DIR] [--keep-index]

The database is `aisle_bench_relevance` (BENCH_RELEVANCE_DATABASE_URL); both indices are
deleted at the end unless --keep-index. The data (Apache-2.0, see its LICENSE.txt) is looked
for in `shared/data/relevance/esci` beside the checkout or a directory above it.
"""

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
import zipfile
from collections.abc import Mapping, Sequence
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
from bench.relevance_metrics import (  # noqa: E402
    K,
    load_judgments,
    load_queries,
    loss_lines,
    losses,
    per_query_ndcg,
    split_half,
    summarize,
)

DATA_PARTS = ("shared", "data", "relevance", "esci")
CATALOGUE = "esci_us_ecommerce_shrunk.ndjson.zip"
JUDGMENTS = "esci_us_judgments.json"
QUERIES = "esci_us_queryset.json"
# The command line README's "Importing a catalogue" gives for this file.
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
INDEX_PREFIX = index_prefix("bench-relevance-")
BASELINE_INDEX = f"{INDEX_PREFIX}bm25"
BASELINE_FIELDS = ["title^2", "bullet_points", "description", "brand"]
CACHE_PREFIX = f"aisle-bench-relevance-{os.getpid()}"
BOOTSTRAP_SAMPLES = 2_000
SMOKE_QUERIES = 8  # BENCH_SMOKE: these first queries and their judged products only

os.environ.update(
    {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": DATABASE_URL,
        "REDIS_URL": REDIS_URL,
        "CACHE_KEY_PREFIX": CACHE_PREFIX,
        "ELASTICSEARCH_INDEX_PREFIX": INDEX_PREFIX,
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


def catalogue_subset(source: Path, keep: set[str], target: Path) -> Path:
    """The bulk body's action and document lines of the products in `keep`, written to `target`
    (BENCH_SMOKE: a catalogue of the judged products of a few queries, imported the same way)."""
    with zipfile.ZipFile(source) as archive, archive.open(archive.namelist()[0]) as raw:
        lines = (line for line in raw if line.strip())
        with target.open("wb") as out:
            for action in lines:
                document = next(lines)
                (meta,) = json.loads(action).values()
                if meta["_id"] in keep:
                    out.write(action + document)
    return target


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


def baseline_build(es) -> None:
    """The same products, the issue's baseline fields, the standard analyzer; id = sku."""
    from elasticsearch.helpers import bulk

    from catalog.models import Product

    es.indices.delete(index=BASELINE_INDEX, ignore_unavailable=True)
    text = {"type": "text"}  # the standard analyzer
    es.indices.create(
        index=BASELINE_INDEX,
        settings={"number_of_shards": 1, "number_of_replicas": 0},
        mappings={
            "properties": dict.fromkeys(("title", "bullet_points", "description", "brand"), text)
        },
    )
    products = Product.objects.values_list("sku", "title", "description", "brand", "attributes")
    actions = (
        {
            "_index": BASELINE_INDEX,
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


def baseline_rankings(es, queries: Sequence[str]) -> Rankings:
    rankings: Rankings = {}
    for text in queries:
        hits = es.search(
            index=BASELINE_INDEX,
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
    say(f"{'':32} {'Aisle':>7} {'BM25':>7} {'Aisle - BM25':>13}")
    for label, a, b in rows:
        say(f"{label:32} {a:7.3f} {b:7.3f} {a - b:+13.3f}")
    low, high = bootstrap_interval(
        per_query_ndcg(aisle, judgments), per_query_ndcg(baseline, judgments)
    )
    say(f"NDCG@10 difference, 95% paired bootstrap over queries: {low:+.3f} to {high:+.3f}")
    lost = losses(aisle, baseline, judgments)
    say()
    say(f"The {len(lost)} queries where Aisle loses most to BM25 (top 3: Aisle | BM25):")
    for line in loss_lines(lost, titles):
        say(line)


# --- the run ---------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None, help="the ESCI directory")
    parser.add_argument("--keep-index", action="store_true", help="keep both indices")
    args = parser.parse_args()
    data = data_dir(args.data)
    started = time.perf_counter()

    database_prepare(env={**os.environ, "DATABASE_URL": DATABASE_URL})
    import django

    django.setup()
    from django.core.management import call_command

    from catalog.models import Product
    from searchindex.client import ALIAS, admin_client

    es = admin_client(timeout=300)
    judgments = load_judgments(data / JUDGMENTS)
    queries = load_queries(data / QUERIES)
    say(
        f"data: {data} (Amazon's Shopping Queries Dataset, ESCI, Reddy et al. 2022; via "
        "OpenSearch's Search Relevance Workbench; Apache-2.0)"
    )
    catalogue = data / CATALOGUE
    workdir = Path(tempfile.mkdtemp(prefix="aisle-bench-relevance-"))
    if SMOKE:
        queries = queries[:SMOKE_QUERIES]
        judgments = {query: judgments[query] for query in queries}
        judged = {doc for ratings in judgments.values() for doc in ratings}
        catalogue = catalogue_subset(catalogue, judged, workdir / "catalogue.ndjson")
    try:
        clock = time.perf_counter()
        summary = catalogue_import(catalogue)
        say(f"import_catalog: {summary} ({time.perf_counter() - clock:.1f} s)")
        clock = time.perf_counter()
        call_command("rebuild_index", "--no-progress", stdout=StringIO())
        baseline_build(es)
        say(f"indices: {ALIAS} and {BASELINE_INDEX} ({time.perf_counter() - clock:.1f} s)")

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
        baseline = baseline_rankings(es, queries)
        say(
            f"{len(queries)} queries, {sum(map(len, judgments.values())):,} judgments, "
            f"{len(products):,} products ({time.perf_counter() - clock:.1f} s for both runs)"
        )
        say()
        report(aisle, baseline, judgments, queries, titles)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if not args.keep_index:
            names = list(es.indices.get(index=f"{INDEX_PREFIX}*", allow_no_indices=True))
            if names:  # by name: wildcard deletes may be refused (destructive_requires_name)
                es.indices.delete(index=",".join(names))
        redis_delete(REDIS_URL, f"{CACHE_PREFIX}*")
    say(f"\ndone in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
