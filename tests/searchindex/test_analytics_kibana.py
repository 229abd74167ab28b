"""The Kibana saved objects for search analytics (docker/kibana/*.ndjson), checked structurally:
Kibana does not run here, so these tests read the objects, never render them."""

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from searchindex import analytics
from tests.test_compose import ROOT, load_script

NDJSON_FILES = sorted((ROOT / "docker" / "kibana").glob("*.ndjson"))
EVENTS_VIEW = "aisle-search-events"


def objects() -> list[dict]:
    return [
        json.loads(line)
        for path in NDJSON_FILES
        for line in path.read_text().splitlines()
        if line.strip()
    ]


def by_type(kind: str) -> list[dict]:
    return [obj for obj in objects() if obj["type"] == kind]


def dashboard() -> dict:
    [board] = [obj for obj in by_type("dashboard") if obj["attributes"]["title"] == "Aisle search"]
    return board


def test_every_line_is_a_json_saved_object_with_a_unique_id():
    assert NDJSON_FILES
    for path in NDJSON_FILES:
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            obj = json.loads(line)  # raises on an invalid line
            assert {"id", "type", "attributes", "references"} <= set(obj), (path.name, number)
    ids = [(obj["type"], obj["id"]) for obj in objects()]
    assert len(ids) == len(set(ids))


def test_every_reference_resolves_to_an_object_in_the_files():
    present = {(obj["type"], obj["id"]) for obj in objects()}
    for obj in objects():
        for ref in obj["references"]:
            assert (ref["type"], ref["id"]) in present, (obj["id"], ref)


def test_the_events_data_view_has_the_stream_name_and_time_field(settings):
    [view] = [obj for obj in by_type("index-pattern") if obj["id"] == EVENTS_VIEW]
    assert view["attributes"]["timeFieldName"] == "@timestamp"
    stream = analytics.index_template("x")["template"]["mappings"]["properties"]
    assert stream["@timestamp"]["type"] == "date"
    # The import step gives the title the deployment's prefix, as the app names the stream.
    kibana = load_script("kibana_data_view")
    imported = [json.loads(line) for line in kibana.saved_objects("staging-").splitlines()]
    [view] = [obj for obj in imported if obj["id"] == EVENTS_VIEW]
    assert view["attributes"]["title"] == "staging-aisle-search-events"
    settings.SEARCH_ANALYTICS_DATA_STREAM = ""
    settings.ELASTICSEARCH_INDEX_PREFIX = "staging-"
    assert analytics.stream_name() == view["attributes"]["title"]


def test_lens_layers_reference_the_events_data_view_and_use_mapped_fields():
    mapped = analytics.index_template("x")["template"]["mappings"]["properties"]
    fields = {*mapped, *(f"filters.{name}" for name in mapped["filters"]["properties"])}
    lenses = by_type("lens")
    assert lenses
    for lens in lenses:
        layers = lens["attributes"]["state"]["datasourceStates"]["formBased"]["layers"]
        refs = {ref["name"]: ref["id"] for ref in lens["references"]}
        for layer_id, layer in layers.items():
            assert refs[f"indexpattern-datasource-layer-{layer_id}"] == EVENTS_VIEW
            assert set(layer["columnOrder"]) == set(layer["columns"])
            for column in layer["columns"].values():
                if column["operationType"] in {"formula", "math"}:
                    # Computed from the layer's other columns, which it must name.
                    assert set(column["references"]) <= set(layer["columns"]), lens["id"]
                    continue
                source = column.get("sourceField")
                assert source in fields | {"___records___"}, (lens["id"], source)


def test_the_dashboard_has_a_panel_for_each_chart_the_issue_asks_for():
    board = dashboard()
    panels = json.loads(board["attributes"]["panelsJSON"])
    refs = {ref["name"]: ref for ref in board["references"]}
    lenses = {lens["id"]: lens for lens in by_type("lens")}
    charts = {}
    for panel in panels:
        ref = refs[panel["panelRefName"]]
        assert ref["type"] == panel["type"] == "lens"
        charts[lenses[ref["id"]]["attributes"]["title"]] = lenses[ref["id"]]
    assert set(charts) == {
        "Searches over time",
        "Top queries",
        "Zero-result queries",
        "Elasticsearch took (ms): p50 and p95",
        "Searches by store",
        "Search engagement by query",
        "Click-through, add-to-cart and conversion rates",
        "Average click position",
        "Searched, never clicked",
    }

    def operations(title: str) -> set[tuple[str, str | None]]:
        layers = charts[title]["attributes"]["state"]["datasourceStates"]["formBased"]["layers"]
        return {
            (column["operationType"], column.get("sourceField"))
            for layer in layers.values()
            for column in layer["columns"].values()
        }

    assert ("date_histogram", "@timestamp") in operations("Searches over time")
    # Clicks and conversions share the stream: a search count is of searches and suggests only.
    over_time = charts["Searches over time"]["attributes"]["state"]["query"]["query"]
    assert over_time == 'endpoint : ("search" or "suggest")'

    assert ("terms", "query") in operations("Top queries")
    assert ("terms", "query") in operations("Zero-result queries")
    zero = charts["Zero-result queries"]["attributes"]["state"]["query"]["query"]
    assert "zero_results : true" in zero
    assert operations("Elasticsearch took (ms): p50 and p95") >= {
        ("percentile", "took_ms"),
        ("date_histogram", "@timestamp"),
    }
    assert ("terms", "store_id") in operations("Searches by store")
    # Panels do not overlap on the 48-column grid.
    cells: set[tuple[int, int]] = set()
    for panel in panels:
        grid = panel["gridData"]
        assert grid["x"] + grid["w"] <= 48
        mine = {
            (x, y)
            for x in range(grid["x"], grid["x"] + grid["w"])
            for y in range(grid["y"], grid["y"] + grid["h"])
        }
        assert not cells & mine, panel["panelIndex"]
        cells |= mine


class _Kibana(BaseHTTPRequestHandler):
    """Answers the import API like Kibana does and keeps what it was sent."""

    received: list[tuple[str, Any, bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, self.headers, body))
        # The file part: after its headers' blank line, up to the closing boundary.
        ndjson = body.split(b"\r\n\r\n", 1)[1].rsplit(b"\r\n--", 1)[0]
        count = sum(1 for line in ndjson.splitlines() if json.loads(line)["id"])
        answer = json.dumps({"success": True, "successCount": count}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def kibana_url() -> Iterator[str]:
    _Kibana.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Kibana)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_the_import_posts_every_object_once_with_overwrite_so_a_rerun_is_safe(kibana_url):
    kibana = load_script("kibana_data_view")
    ndjson = kibana.saved_objects("")
    assert kibana.import_saved_objects(kibana_url, ndjson) == len(objects())
    [(path, headers, body)] = _Kibana.received
    assert path == "/api/saved_objects/_import?overwrite=true"
    assert headers["kbn-xsrf"]
    assert headers["Content-Type"].startswith("multipart/form-data; boundary=")
    assert 'name="file"; filename="aisle.ndjson"' in body.decode()
    assert ndjson in body


def test_the_ndjson_files_live_where_the_image_copies_them():
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert not any(Path("docker/kibana").match(pattern) for pattern in ignored)


def _columns(lens: dict) -> dict[str, dict]:
    layers = lens["attributes"]["state"]["datasourceStates"]["formBased"]["layers"]
    return {
        name: column
        for layer in layers.values()
        for name, column in layer.items()
        if name == "columns"
        for name, column in column.items()
    }


def _formulas(lens: dict) -> dict[str, str]:
    return {
        column["label"]: column["params"]["formula"]
        for column in _columns(lens).values()
        if column["operationType"] == "formula"
    }


def test_the_engagement_panels_compute_the_reports_rates_over_searches_with_results():
    lenses = {lens["attributes"]["title"]: lens for lens in by_type("lens")}
    searches = "count(kql='endpoint : \"search\" and results > 0')"
    for title in ("Search engagement by query", "Click-through, add-to-cart and conversion rates"):
        formulas = _formulas(lenses[title])
        for label, kind in (
            ("Click-through rate", "click"),
            ("Add-to-cart rate", "add_to_cart"),
            ("Conversion rate", "conversion"),
        ):
            # Searches with at least one such event (suggests excluded) over searches.
            assert formulas[label] == (
                f'unique_count(search_id, kql=\'event_type : "{kind}" and search_kind :'
                f' "search"\') / {searches}'
            )
    by_query = _columns(lenses["Search engagement by query"])
    assert by_query["query"]["sourceField"] == "query"
    assert by_query["position"]["operationType"] == "average"
    assert by_query["position"]["sourceField"] == "position"
    assert "click" in by_query["position"]["filter"]["query"]
    never = _formulas(lenses["Searched, never clicked"])["Searched, never clicked"]
    assert never.startswith(searches)
    assert "unique_count(search_id" in never
    # Each formula's math node divides (or subtracts) exactly the parts the formula names.
    for lens in lenses.values():
        columns = _columns(lens)
        for column in columns.values():
            if column["operationType"] == "math":
                parts = [columns[name] for name in column["references"]]
                assert {part["operationType"] for part in parts} <= {"count", "unique_count"}
