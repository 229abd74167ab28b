"""`manage.py search_report`: top queries, zero-result queries, first-page-only queries and
Elasticsearch latency from the search events, for readers without Kibana."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from elasticsearch import TransportError

from searchindex import analytics
from searchindex.analytics_report import parse_since, report_text, search_report


class Command(BaseCommand):
    help = (
        "Summarise the search analytics events: top queries, top zero-result queries, queries "
        "nobody paged past page 1, and p50/p95 of Elasticsearch's took per endpoint."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--since", default="7d", help="window: 30m, 24h, 7d (default 7d)")
        parser.add_argument("--store", type=int, default=None, help="only this store's events")

    def handle(self, *args: Any, since: str, store: int | None, **options: Any) -> None:
        try:
            window = parse_since(since)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        stream = analytics.stream_name()
        try:
            report = search_report(
                client=analytics.writer().client, stream=stream, since=window, store_id=store
            )
        except TransportError as exc:
            raise CommandError(f"Elasticsearch is unreachable: {exc}") from exc
        self.stdout.write(
            report_text(report, since=since, store_id=store, stream=stream), ending=""
        )
