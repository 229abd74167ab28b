"""Console pages: each reads through a selector or writes through a service, then renders."""

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods
from elasticsearch import ApiError, TransportError

from console.access import console_page
from console.analytics import DEFAULT_WINDOW, WINDOWS, analytics_empty, analytics_report
from console.charts import bar_chart, line_chart
from console.forms import SynonymForm
from console.index_state import index_state
from console.services import synonym_save
from inventory.models import Store
from searchindex.analytics import stream_name, writer
from searchindex.drift import product_drift
from searchindex.models import Synonym
from searchindex.synonyms import DELIVERY_MESSAGE

STORE_PICKER_LIMIT = 500


def _stores() -> list[Store]:
    return list(Store.objects.order_by("name", "id")[:STORE_PICKER_LIMIT])


@console_page
def preview(request: HttpRequest) -> HttpResponse:
    return render(request, "console/preview.html", {"page": "preview", "stores": _stores()})


@console_page
def rules(request: HttpRequest) -> HttpResponse:
    return render(request, "console/rules.html", {"page": "rules", "stores": _stores()})


@console_page
@require_http_methods(["GET", "POST"])
def synonyms(request: HttpRequest) -> HttpResponse:
    editing = None
    if edit_id := request.GET.get("edit", "").strip():
        editing = get_object_or_404(Synonym, pk=int(edit_id) if edit_id.isdigit() else 0)
    if request.method == "POST":
        if not request.user.has_perm(
            "searchindex.change_synonym" if editing else "searchindex.add_synonym"
        ):
            messages.error(request, "You may not change synonyms (ask for the permission).")
            return redirect("console:synonyms")
        form = SynonymForm(request.POST, instance=editing)
        user = request.user
        if form.is_valid() and isinstance(user, AbstractBaseUser):  # console_page: signed in
            synonym_save(form=form, user=user)
            messages.success(request, DELIVERY_MESSAGE)
            return redirect("console:synonyms")
    else:
        initial = {"terms": request.GET.get("terms", "")[:500]}
        form = SynonymForm(instance=editing, initial=None if editing else initial)
    return render(
        request,
        "console/synonyms.html",
        {
            "page": "synonyms",
            "form": form,
            "editing": editing,
            "synonyms": Synonym.objects.order_by("id"),
        },
    )


@console_page
def analytics(request: HttpRequest) -> HttpResponse:
    window = WINDOWS.get(request.GET.get("window", ""), WINDOWS[DEFAULT_WINDOW])
    error = None
    try:
        # The writer's client: the events may live on a cluster of their own.
        report = analytics_report(client=writer().client, stream=stream_name(), window=window)
    except (ApiError, TransportError) as exc:
        report = analytics_empty(window)
        error = f"Elasticsearch did not answer: {type(exc).__name__}"
    fmt = "%H:%M" if window.key == "24h" else "%d %b %H:%M" if window.key == "7d" else "%d %b"
    labels = [b.start.strftime(fmt) for b in report.over_time]
    charts = {
        "searches": bar_chart("Searches", labels, [b.searches for b in report.over_time]),
        "zero_rate": line_chart(
            "Zero-result rate", labels, [b.zero_rate for b in report.over_time]
        ),
        "top": bar_chart(
            "Top queries",
            [q.query for q in report.top_queries],
            [q.searches for q in report.top_queries],
        ),
        "zero_top": bar_chart(
            "Top zero-result queries",
            [q.query for q in report.zero_result_queries],
            [q.searches for q in report.zero_result_queries],
        ),
    }
    return render(
        request,
        "console/analytics.html",
        {
            "page": "analytics",
            "report": report,
            "charts": charts,
            "windows": WINDOWS.values(),
            "stream": stream_name(),
            "error": error,
        },
    )


def _shown(document: dict[str, Any] | None, key: str) -> str:
    """A document field as JSON, as the index holds it; "(absent)" when the field is not there."""
    if document is None or key not in document:
        return "(absent)"
    return json.dumps(document[key], ensure_ascii=False, sort_keys=True)


@console_page
def inspect(request: HttpRequest) -> HttpResponse:
    drift = None
    product_id = request.GET.get("product", "").strip()
    error = None
    if product_id:
        if product_id.isdigit() and 0 < int(product_id) < 2**63:
            try:
                drift = product_drift(product_id=int(product_id))
            except (ApiError, TransportError) as exc:
                error = f"Elasticsearch did not answer: {type(exc).__name__}"
        else:
            error = "A product id is a positive whole number."
    rows = []
    if drift is not None:
        keys = sorted(set(drift.expected or {}) | set(drift.indexed or {}))
        rows = [
            {
                "field": key,
                "expected": _shown(drift.expected, key),
                "indexed": _shown(drift.indexed, key),
                "differs": key in drift.differing,
            }
            for key in keys
        ]
    return render(
        request,
        "console/inspect.html",
        {
            "page": "inspect",
            "state": index_state(),
            "drift": drift,
            "drift_rows": rows,
            "product_id": product_id,
            "error": error,
        },
    )
