"""Drill: the web process is SIGKILLed and Elasticsearch is unreachable while search events and
attributed orders flow; after recovery every accepted event and every attributed conversion is in
the data stream, none twice.

Clients behave as the contract asks: a batch or an order that got no answer is sent again as it
was (same event_ids, same Idempotency-Key) until it is answered. The shipper (the Celery task's
and beat sweep's code, run here in a thread) cannot reach Elasticsearch during the outage.

  .venv/bin/python bench/events_drill.py [--seconds 20] [--smoke]

Environment as bench/events.py (its database, Redis and data stream).
"""

import argparse
import hashlib
import http.client
import json
import os
import signal
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from elasticsearch import Elasticsearch  # noqa: E402
from elasticsearch.helpers import scan  # noqa: E402

from bench import events as events_bench  # noqa: E402 - sets up Django for the bench database
from bench import orders as order_bench  # noqa: E402
from bench.common import Gunicorn, database_prepare, redis_delete  # noqa: E402
from searchevents.models import PendingSearchEvent  # noqa: E402
from searchevents.query_ids import Kind, query_id_issue  # noqa: E402
from searchevents.tasks import search_events_ship  # noqa: E402
from searchindex.analytics import stream_emptied  # noqa: E402

DEAD_URL = "http://127.0.0.1:1"
UNANSWERED: Counter[str] = Counter()  # attempts the killed (or restarting) server never answered
STREAM = events_bench.STREAM


class Web:
    """The current gunicorn; replaced by a new one after the kill (clients follow its port)."""

    def __init__(self) -> None:
        self.server = Gunicorn(workers=2, env=events_bench.ENV)

    @property
    def port(self) -> int:
        return self.server.port

    def kill_and_restart(self) -> None:
        os.killpg(self.server.pid, signal.SIGKILL)  # master and workers, mid-request
        self.server.popen.wait()
        self.server = Gunicorn(workers=2, env=events_bench.ENV)


def post(web: Web, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict] | None:
    """One attempt; None when the server did not answer (killed, restarting)."""
    try:
        conn = http.client.HTTPConnection("127.0.0.1", web.port, timeout=10)
        conn.request(
            "POST", path, body=body, headers={"Content-Type": "application/json", **headers}
        )
        response = conn.getresponse()
        status, answer = response.status, json.loads(response.read())
        conn.close()
    except (OSError, http.client.HTTPException, ValueError):
        UNANSWERED[path] += 1
        return None
    return status, answer


def until_answered(web: Web, path: str, body: bytes, ok: int, headers: dict | None = None) -> dict:
    while True:
        answer = post(web, path, body, headers or {})
        if answer is not None and answer[0] == ok:
            return answer[1]
        if answer is not None and answer[0] < 500:
            raise RuntimeError(f"refused: {answer}")
        time.sleep(0.05)


def event_client(web: Web, stop: threading.Event, issued: list, acknowledged: list) -> None:
    n = 0
    while not stop.is_set():
        token, shown = issued[n % len(issued)]
        n += 1
        batch = [
            {
                "type": "click" if i % 2 == 0 else "add_to_cart",
                "query_id": token,
                "product_id": shown[i],
                "position": i + 1,
                "event_id": uuid.uuid4().hex,
            }
            for i in range(10)
        ]
        answer = until_answered(
            web, "/api/search/events/", json.dumps({"events": batch}).encode(), 202
        )
        if answer["rejected"]:
            raise RuntimeError(f"rejected: {answer}")
        # Accepted now, or ignored as already accepted by a try whose answer was lost.
        acknowledged.extend(event["event_id"] for event in batch)


def order_client(web: Web, stop: threading.Event, fx: dict, mine: int, confirmed: list) -> None:
    token = query_id_issue(caller=events_bench.CALLER, kind=Kind.SEARCH).token
    products = [fx["Bench Hot Item"], fx[f"Bench Spread {mine:02d}"]]
    while not stop.is_set():
        body = json.dumps(
            {
                "store_id": fx["store_id"],
                "items": [
                    {"product_id": products[0], "quantity_requested": 1, "query_id": token},
                    {"product_id": products[1], "quantity_requested": 1},
                ],
            }
        ).encode()
        key = {"Idempotency-Key": uuid.uuid4().hex}
        answer = until_answered(web, "/orders/", body, 201, key)
        if answer["status"] == "CONFIRMED":
            confirmed.append(answer["id"])


def shipper(stop: threading.Event, shipped: Counter[str]) -> None:
    """The worker and beat sweep: derive conversions and ship, every 0.3 s, failures logged."""
    while not stop.is_set():
        try:
            result = search_events_ship.run()
            shipped["events"] += result["shipped"]
        except Exception:  # noqa: BLE001 - an outage: the rows stay, the next tick retries
            shipped["failed_runs"] += 1
        time.sleep(0.3)
    connection.close()


def doc_id(event_id: str) -> str:
    digest = hashlib.sha256(f"{events_bench.CALLER}\0{event_id}".encode()).hexdigest()
    return "e" + digest[:32]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--smoke", action="store_true", help="a few seconds")
    args = parser.parse_args()
    seconds = 5.0 if args.smoke else args.seconds

    database_prepare(env=events_bench.ENV)
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE searchevents_pendingsearchevent, searchevents_acceptedeventid")
    es = Elasticsearch(os.environ.get("ELASTICSEARCH_URL", "http://127.0.0.1:9200"))
    es = es.options(request_timeout=60)
    stream_emptied(es, events_bench.STREAM)
    redis_delete(events_bench.REDIS_URL, "aisle-bench-events:*")
    fx = order_bench.fixtures()
    issued = events_bench.searches(list(range(1, 200)))

    web = Web()
    stop_clients, stop_shipper = threading.Event(), threading.Event()
    acknowledged: list[str] = []
    confirmed: list[int] = []
    shipped: Counter[str] = Counter()
    threads = [
        threading.Thread(target=event_client, args=(web, stop_clients, issued, acknowledged))
        for _ in range(3)
    ]
    threads += [
        threading.Thread(target=order_client, args=(web, stop_clients, fx, n, confirmed))
        for n in range(2)
    ]
    ship = threading.Thread(target=shipper, args=(stop_shipper, shipped))
    started = time.monotonic()
    for thread in [*threads, ship]:
        thread.start()
    try:
        time.sleep(seconds * 0.2)
        settings.SEARCH_EVENTS_URL = DEAD_URL  # Elasticsearch unreachable for the shipper
        outage_from = time.monotonic() - started
        time.sleep(seconds * 0.2)
        pending_at_kill = PendingSearchEvent.objects.count()
        web.kill_and_restart()
        killed_at = time.monotonic() - started
        time.sleep(seconds * 0.3)
        settings.SEARCH_EVENTS_URL = ""  # back
        outage_to = time.monotonic() - started
        time.sleep(seconds * 0.3)
    finally:
        stop_clients.set()
        for thread in threads:
            thread.join(timeout=60)
        # Recovery: the sweep keeps running until nothing is pending.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            pending = PendingSearchEvent.objects.count()
            waiting = connection.cursor()
            waiting.execute(
                "SELECT count(*) FROM ordering_order"
                " WHERE conversions_pending AND status = 'CONFIRMED'"
            )
            if not pending and not waiting.fetchone()[0]:
                break
            time.sleep(0.3)
        stop_shipper.set()
        ship.join(timeout=60)
        web.server.stop()
        redis_delete(events_bench.BROKER_URL, "celery")

    es.indices.refresh(index=STREAM)
    stored = [
        (hit["_id"], hit["_source"])
        for hit in scan(
            es, index=STREAM, query={"query": {"exists": {"field": "event_type"}}}, size=1000
        )
    ]
    ids = Counter(doc for doc, _ in stored)
    expected_events = {doc_id(event_id) for event_id in acknowledged}
    client_events = {doc for doc, source in stored if source["endpoint"] == "events"}
    missing_events = len(expected_events - client_events)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.order_id, i.product_id FROM ordering_orderitem i"
            " JOIN ordering_order o ON o.id = i.order_id"
            " WHERE o.status = 'CONFIRMED' AND i.query_id IS NOT NULL"
        )
        expected_conversions = Counter(map(tuple, cursor.fetchall()))
    conversions = Counter(
        (source["order_id"], source["product_id"])
        for _, source in stored
        if source["event_type"] == "conversion"
    )
    duplicates = sum(n - 1 for n in ids.values() if n > 1) + sum(
        n - 1 for n in conversions.values() if n > 1
    )
    missing_conversions = sum((expected_conversions - conversions).values())
    unconfirmed = len(set(confirmed) - {order for order, _ in expected_conversions})
    print(
        f"DRILL events: seconds={seconds:.0f}, es_outage={outage_from:.1f}-{outage_to:.1f}s,"
        f" web_sigkill_at={killed_at:.1f}s (pending rows then {pending_at_kill}),"
        f" events_acknowledged={len(acknowledged)}, events_in_stream={len(client_events)},"
        f" missing_events={missing_events}, extra_events={len(client_events - expected_events)},"
        f" orders_confirmed={len(confirmed)}, conversions_expected="
        f"{sum(expected_conversions.values())}, conversions_in_stream={sum(conversions.values())},"
        f" missing_conversions={missing_conversions}, confirmed_without_conversion={unconfirmed},"
        f" duplicates={duplicates}, failed_shipper_runs={shipped['failed_runs']},"
        f" unanswered_tries={dict(UNANSWERED)}"
    )
    failed = (
        missing_events
        or missing_conversions
        or duplicates
        or unconfirmed
        or not acknowledged
        or not confirmed
        or len(client_events) != len(expected_events)
    )
    print("FAILED" if failed else "PASSED")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
