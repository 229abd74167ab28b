"""Search on a 3-node Elasticsearch cluster against one node, in one run.

bench-search's catalogue (`aisle_bench_search`, 100,000 products; 2,000 under BENCH_SMOKE=1) is
indexed on both: the single node of ELASTICSEARCH_URL with the defaults (1 shard, no replica)
and the cluster of BENCH_CLUSTER_URL (a comma-separated node list; by default the three local
nodes from AISLE_ES_CLUSTER_PORT, 9260) with 3 shards and 1 replica (BENCH_CLUSTER_SHARDS,
BENCH_CLUSTER_REPLICAS), as Aisle runs on each. Two gunicorns serve the API, one per set-up,
and the paths take turns on slices of the same jobs, 8 clients:

  search API, and the same bodies straight to Elasticsearch (on the cluster, each client keeps a
  connection to one of the nodes, in turn, as the API's node pool spreads its requests);
  suggest API with the cache cold (each server has its own cache prefix).

One machine holds every node, so the cluster cannot be faster here: the run shows what the
cluster's coordination costs in latency and CPU, not what more machines would buy.

  BENCH_CLUSTER_URL=http://127.0.0.1:9260,... .venv/bin/python bench/search_cluster.py

`make bench-search-cluster` starts the local cluster (ports 9260-9262), runs this and stops it.
The indices are deleted at the end, on both.
"""

import argparse
import itertools
import json
import os
import random
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from django.conf import settings  # noqa: E402
from elasticsearch.dsl.connections import connections  # noqa: E402

from bench import search as bench  # noqa: E402 - sets the benchmark's environment, then Django
from bench.common import (  # noqa: E402
    Catalog,
    CpuMeter,
    Gunicorn,
    api_get,
    database_prepare,
    redis_delete,
    search_mix,
    sized,
    suggest_prefixes,
)
from catalog.models import Product  # noqa: E402
from inventory.models import Store  # noqa: E402
from searchindex.client import ALIAS  # noqa: E402
from searchindex.nodes import node_urls  # noqa: E402

# The local cluster of `scripts/services.sh es-cluster-up`: three nodes from this HTTP port on.
_FIRST_PORT = int(os.environ.get("AISLE_ES_CLUSTER_PORT") or 9260)
CLUSTER_URL = os.environ.get(
    "BENCH_CLUSTER_URL", ",".join(f"http://127.0.0.1:{_FIRST_PORT + n}" for n in range(3))
)
SHARDS = int(os.environ.get("BENCH_CLUSTER_SHARDS", "3"))
REPLICAS = int(os.environ.get("BENCH_CLUSTER_REPLICAS", "1"))

say = bench.say


@contextmanager
def connected_to(urls: list[str]) -> Iterator[None]:
    """This process's Elasticsearch connection on `urls`, with the cluster's index settings."""
    original = connections.get_connection()
    shards, replicas = settings.ELASTICSEARCH_SHARDS, settings.ELASTICSEARCH_REPLICAS
    config = dict(settings.ELASTICSEARCH_DSL["default"])
    config["hosts"] = urls
    connections.create_connection(alias="default", **config)
    settings.ELASTICSEARCH_SHARDS, settings.ELASTICSEARCH_REPLICAS = SHARDS, REPLICAS
    try:
        yield
    finally:
        settings.ELASTICSEARCH_SHARDS, settings.ELASTICSEARCH_REPLICAS = shards, replicas
        connections.add_connection("default", original)


def indices_drop() -> None:
    """The run's indices, by name: a cluster may refuse wildcard deletes."""
    es = bench.es_client()
    names = list(es.indices.get(index=f"{ALIAS}*", allow_no_indices=True))
    if names:
        es.indices.delete(index=",".join(names))


def cluster_build(urls: list[str]) -> float:
    with connected_to(urls):
        seconds = bench.index_build()
        health = bench.es_client().cluster.health(
            index=ALIAS, wait_for_status="green", timeout="300s"
        )
        if health["status"] != "green":
            raise SystemExit(f"the cluster's bench index stayed {health['status']}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=sized(8, 2))
    parser.add_argument("--rounds", type=int, default=sized(6, 1))
    parser.add_argument("--prefixes", type=int, default=sized(400, 12))
    parser.add_argument("--workers", type=int, default=sized(8, 2), help="gunicorn sync workers")
    args = parser.parse_args()
    started = time.perf_counter()
    urls = node_urls(CLUSTER_URL)
    database_prepare(
        env=os.environ, catalog=Catalog(bench.PRODUCTS, bench.STORES, bench.SEED), say=say
    )
    say(f"index: {bench.PRODUCTS:,} documents on the node in {bench.index_build():.1f} s")
    say(
        f"index: {bench.PRODUCTS:,} documents on the {len(urls)}-node cluster ({SHARDS} shards,"
        f" {REPLICAS} replica) in {cluster_build(urls):.1f} s, green"
    )
    node = Gunicorn(workers=args.workers, env=os.environ)
    cluster = Gunicorn(
        workers=args.workers,
        env={
            **os.environ,
            "ELASTICSEARCH_URL": ",".join(urls),
            "CACHE_KEY_PREFIX": f"{bench.CACHE_PREFIX}-cluster",
        },
    )
    try:
        report(args, urls, node, cluster)
    finally:
        node.stop()
        cluster.stop()
        redis_delete(bench.REDIS_URL, f"{bench.CACHE_PREFIX}*", "celery*", "_kombu*", "unacked*")
        indices_drop()
        with connected_to(urls):
            indices_drop()
        say("indices deleted on the node and the cluster")
    say(f"total run time {time.perf_counter() - started:.0f} s")


def report(args: argparse.Namespace, urls: list[str], node: Gunicorn, cluster: Gunicorn) -> None:
    store_ids = list(Store.objects.order_by("id").values_list("id", flat=True))
    mix = search_mix(store_ids)
    jobs = [params for _ in range(args.rounds * args.clients) for params in mix]
    random.Random(bench.SEED).shuffle(jobs)
    bodies = {json.dumps(p, sort_keys=True): bench.raw_search_body(p) for p in mix}
    titles = Product.objects.order_by("id").values_list("title", flat=True)
    prefixes = suggest_prefixes(list(titles), args.prefixes, seed=bench.SEED)
    cluster_nodes = itertools.cycle(urls)

    def raw(es: bench.EsConnection, params: dict[str, str]) -> Any:
        return es.search(bodies[json.dumps(params, sort_keys=True)])

    def api(server: Gunicorn, path: str) -> Callable[[Any, Any], Any]:
        if path == "suggest":
            return lambda _s, q: api_get(server.port, "/api/search/suggest/", {"q": q})
        return lambda _s, p: api_get(server.port, "/api/search/products/", p)

    node_meter = CpuMeter(server=node.pid, es=True)
    cluster_meter = CpuMeter(server=cluster.pid, es=True)
    search_paths: dict[str, bench.PathSpec] = {
        "search API, one node": (api(node, "search"), None, node_meter),
        "search API, cluster": (api(cluster, "search"), None, cluster_meter),
        "raw search, one node": (raw, bench.EsConnection, node_meter),
        "raw search, cluster": (raw, lambda: bench.EsConnection(next(cluster_nodes)), node_meter),
    }
    suggest_paths: dict[str, bench.PathSpec] = {
        "suggest API cold, one node": (api(node, "suggest"), None, node_meter),
        "suggest API cold, cluster": (api(cluster, "suggest"), None, cluster_meter),
    }
    say(f"warm-up: every query twice on each path, {args.clients} clients")
    for work, connect, meter in search_paths.values():
        bench.measured(args.clients, mix * 2, work, connect, meter, tolerate_errors=True)
    say(f"search: {len(jobs)} requests per path, {args.clients} clients, taking turns")
    results = bench.taking_turns(args.clients, jobs, search_paths)
    say(f"suggest: {len(prefixes)} distinct prefixes per path, cache cold, taking turns")
    results.update(bench.taking_turns(args.clients, prefixes, suggest_paths))

    say("")
    say(
        f"{bench.PRODUCTS:,} products; one node (1 shard) vs {len(urls)}-node cluster"
        f" ({SHARDS} shards, {REPLICAS} replica), one machine; {args.clients} clients; ms"
    )
    say(f"  {'path':<32} {'p50':>8} {'p99':>8} {'req/s':>8} {'web CPU':>8} {'ES CPU':>8} {'n':>6}")
    for name, result in results.items():
        say(
            f"  {name:<32} {result['p50']:>8.1f} {result['p99']:>8.1f} {result['rps']:>8.1f}"
            f" {result['cpu_web']:>8.2f} {result['cpu_es']:>8.2f} {int(result['n']):>6}"
        )
    say("ratios, cluster / one node (p50; throughput):")
    for kind in ("search API", "raw search", "suggest API cold"):
        one = results[f"{kind}, one node"]
        many = results[f"{kind}, cluster"]
        say(f"  {kind:<32} {many['p50'] / one['p50']:6.2f}x; {many['rps'] / one['rps']:6.2f}x")


if __name__ == "__main__":
    main()
