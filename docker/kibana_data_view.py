"""Create or update the Kibana data view over the products alias, then import the saved objects
in docker/kibana/*.ndjson (the search analytics data view and dashboard), once Kibana answers."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

# A fixed id makes the step idempotent: a re-run finds the same view instead of adding a twin.
DATA_VIEW_ID = "aisle-products"
DATA_VIEW_NAME = "Aisle products"
TIME_FIELD = "created_at"
ALIAS = "products"
SAVED_OBJECTS_DIR = Path(__file__).resolve().parent / "kibana"
# The search events data view in the ndjson; its title gets the deployment's index prefix, like
# the data stream's name (searchindex/analytics.py).
EVENTS_DATA_VIEW_ID = "aisle-search-events"
EVENTS_STREAM = "aisle-search-events"


class KibanaError(RuntimeError):
    """Kibana answered, but not in a way this step can work with."""


def data_view_spec(index_prefix: str = "") -> dict[str, str]:
    """The data view for the alias the app writes to (index names carry the same prefix)."""
    return {
        "id": DATA_VIEW_ID,
        "name": DATA_VIEW_NAME,
        "title": f"{index_prefix}{ALIAS}",
        "timeFieldName": TIME_FIELD,
    }


def _request(
    base_url: str, method: str, path: str, body: dict | None = None, timeout: float = 10
) -> tuple[int, dict]:
    url = urllib.parse.urljoin(base_url.rstrip("/") + "/", path.lstrip("/"))
    if urllib.parse.urlsplit(url).scheme not in {"http", "https"}:
        raise KibanaError(f"refusing a non-HTTP Kibana URL: {url}")
    data = json.dumps(body).encode() if body is not None else None
    # Kibana refuses state-changing calls without kbn-xsrf (any value will do).
    headers = {"kbn-xsrf": "aisle-init", "Content-Type": "application/json"}
    request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310 - scheme checked above
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - scheme checked above
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        payload = exc.read()
        try:
            return exc.code, json.loads(payload or b"{}")
        except ValueError:
            return exc.code, {"raw": payload.decode(errors="replace")[:500]}


def saved_objects(index_prefix: str = "", directory: Path = SAVED_OBJECTS_DIR) -> bytes:
    """Every object in `directory`/*.ndjson, the events data view retitled for `index_prefix`."""
    lines = []
    for path in sorted(directory.glob("*.ndjson")):
        for line in path.read_text().splitlines():
            if not line.strip():
                continue
            obj = json.loads(line)
            if obj["type"] == "index-pattern" and obj["id"] == EVENTS_DATA_VIEW_ID:
                obj["attributes"]["title"] = f"{index_prefix}{EVENTS_STREAM}"
            lines.append(json.dumps(obj, separators=(",", ":")))
    return ("\n".join(lines) + "\n").encode()


def import_saved_objects(base_url: str, ndjson: bytes, timeout: float = 30) -> int:
    """POST the objects to the saved objects import API; overwrite=true replaces objects with
    the same ids, so a re-run updates instead of adding twins. Returns how many were imported."""
    url = base_url.rstrip("/") + "/api/saved_objects/_import?overwrite=true"
    if urllib.parse.urlsplit(url).scheme not in {"http", "https"}:
        raise KibanaError(f"refusing a non-HTTP Kibana URL: {url}")
    boundary = uuid.uuid4().hex
    body = (
        (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="file"; filename="aisle.ndjson"\r\n'
            "Content-Type: application/ndjson\r\n\r\n"
        ).encode()
        + ndjson
        + f"\r\n--{boundary}--\r\n".encode()
    )
    headers = {
        "kbn-xsrf": "aisle-init",
        "Content-Type": f"multipart/form-data; boundary={boundary}",
    }
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)  # noqa: S310 - scheme checked above
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - scheme checked above
            status, answer = response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        status, answer = exc.code, {"raw": exc.read().decode(errors="replace")[:500]}
    if status != 200 or not answer.get("success"):
        raise KibanaError(f"importing saved objects gave HTTP {status}: {answer}")
    return int(answer.get("successCount", 0))


def wait_for_kibana(base_url: str, wait_seconds: float, interval: float = 3) -> None:
    """Poll /api/status until Kibana reports itself available, or give up at the deadline."""
    deadline = time.monotonic() + wait_seconds
    last = "no answer yet"
    while True:
        try:
            status, body = _request(base_url, "GET", "/api/status", timeout=5)
            level = body.get("status", {}).get("overall", {}).get("level")
            if status == 200 and level == "available":
                return
            last = f"HTTP {status}, overall level {level!r}"
        except (OSError, ValueError) as exc:  # refused, reset, timed out, half-written body
            last = str(exc)
        if time.monotonic() + interval > deadline:
            raise KibanaError(
                f"Kibana at {base_url} was not available within {wait_seconds:g} s ({last})"
            )
        time.sleep(interval)


def ensure_data_view(base_url: str, spec: dict[str, str]) -> str:
    """Make the data view match `spec`; return what was done: created, updated or unchanged."""
    path = f"/api/data_views/data_view/{urllib.parse.quote(spec['id'])}"
    status, body = _request(base_url, "GET", path)
    if status == 404:
        # override=True also replaces a view someone made by hand with the same title.
        status, body = _request(
            base_url, "POST", "/api/data_views/data_view", {"data_view": spec, "override": True}
        )
        outcome = "created"
    elif status == 200:
        current = body.get("data_view", {})
        wanted = {key: value for key, value in spec.items() if key != "id"}
        if all(current.get(key) == value for key, value in wanted.items()):
            outcome = "unchanged"
        else:
            status, body = _request(
                base_url, "POST", path, {"data_view": wanted, "refresh_fields": True}
            )
            outcome = "updated"
    else:
        raise KibanaError(f"reading data view {spec['id']} gave HTTP {status}: {body}")
    if status != 200:
        raise KibanaError(f"data view {spec['id']} could not be {outcome}: HTTP {status}: {body}")
    # Discover opens on the default view; force=False leaves an operator's own choice alone.
    status, body = _request(
        base_url, "POST", "/api/data_views/default", {"data_view_id": spec["id"], "force": False}
    )
    if status != 200:
        raise KibanaError(f"setting the default data view gave HTTP {status}: {body}")
    return outcome


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kibana-url", default=os.environ.get("KIBANA_URL", "http://kibana:5601"))
    parser.add_argument("--index-prefix", default=os.environ.get("ELASTICSEARCH_INDEX_PREFIX", ""))
    parser.add_argument(
        "--wait",
        type=float,
        default=float(os.environ.get("KIBANA_WAIT_SECONDS", "300")),
        help="seconds to wait for Kibana to become available",
    )
    args = parser.parse_args(argv)
    spec = data_view_spec(args.index_prefix)
    try:
        wait_for_kibana(args.kibana_url, args.wait)
        outcome = ensure_data_view(args.kibana_url, spec)
        print(f"[kibana] data view {spec['id']!r} over {spec['title']!r}: {outcome}")
        imported = import_saved_objects(args.kibana_url, saved_objects(args.index_prefix))
    except (KibanaError, OSError, ValueError) as exc:
        print(f"[kibana] FAILED: {exc}", file=sys.stderr)
        return 1
    print(f"[kibana] saved objects from {SAVED_OBJECTS_DIR.name}/*.ndjson: {imported} imported")
    return 0


if __name__ == "__main__":
    sys.exit(main())
