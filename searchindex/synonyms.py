"""Synonyms from the admin to the index: the rules Postgres holds, and swapping them in live.

The `aisle_synonyms` filter is search-time only and lists its rules inline, so every new index
(rebuild_index, test fixtures) carries the enabled rows. A live index takes a change without a
rebuild by a clone: the live index is write-blocked (drains and rebuilds are held off by their
locks meanwhile), cloned - hard links, so a fraction of a second - into a new index whose only
new setting is the synonym filter, the alias is swapped, and the old index is deleted. Searches
never see a closed index. Neither the synonyms API nor updateable file synonyms exist on our
development node (docs/search.md, "Synonyms"); a clone works there and on the official image alike.
"""

import logging
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from elasticsearch import NotFoundError

from searchindex.analysis import SYNONYM_FILTER, synonym_filter
from searchindex.cache import catalog_version_bump
from searchindex.client import admin_client, alias_indices, alias_swap, es_client, index_name_new
from searchindex.locks import DRAIN_LOCK, REBUILD_LOCK, advisory_lock
from searchindex.models import Synonym
from searchindex.outbox import outbox_drain
from searchindex.synonym_syntax import rule_clean, rule_line

logger = logging.getLogger(__name__)

FILTER = SYNONYM_FILTER
DELIVERY_MESSAGE = "Saved. Synonyms reach search within a minute (no rebuild needed)."
CLONE_TIMEOUT_SECONDS = 60
CLONE_TIMEOUT = f"{CLONE_TIMEOUT_SECONDS}s"


def synonym_rules() -> list[str]:
    """The enabled rules as Solr lines, oldest first; a row that fails validation is skipped.

    Rows written around the admin (a shell, a bulk update) are checked again here, because one
    unparsable line would make Elasticsearch refuse the whole index.
    """
    rules = []
    for row in Synonym.objects.filter(enabled=True).order_by("id"):
        try:
            terms, maps_to = rule_clean(terms=row.terms, maps_to=row.maps_to)
        except ValidationError as exc:
            logger.warning("searchindex: synonym %s skipped: %s", row.pk, exc.messages)
            continue
        rules.append(rule_line(terms, maps_to))
    return rules


def live_synonym_rules(index: str) -> list[str] | None:
    """The rules a concrete index was built with (None if its filter has none)."""
    found = es_client().indices.get_settings(index=index, name=f"index.analysis.filter.{FILTER}.*")
    filters = found.get(index, {}).get("settings", {}).get("index", {}).get("analysis", {})
    return filters.get("filter", {}).get(FILTER, {}).get("synonyms")


class SynonymsBusy(Exception):
    """A rebuild holds the index; the synonym swap retries once it is done."""


@dataclass
class SynonymsApplied:
    index: str | None  # the index now behind the alias (None: there is no live index yet)
    changed: bool
    busy: bool = False  # a rebuild holds its lock; it read the rows when it began, so retry


def synonyms_apply() -> SynonymsApplied:
    """Bring the live index's synonym filter up to the enabled rows; a no-op when they match."""
    rules = synonym_rules()
    live = alias_indices()
    if len(live) != 1:
        return SynonymsApplied(index=None, changed=False)
    if live_synonym_rules(live[0]) == rules and not _write_blocked(live[0]):
        return SynonymsApplied(index=live[0], changed=False)
    with advisory_lock(REBUILD_LOCK, wait=False) as acquired:
        if not acquired:
            return SynonymsApplied(index=live[0], changed=False, busy=True)
        with advisory_lock(DRAIN_LOCK, wait=True):
            index = _clone_with_rules(rules)
    catalog_version_bump()
    # Drains that found the lock taken meanwhile left their rows for us.
    try:
        outbox_drain()
    except Exception:  # noqa: BLE001 - the sweep retries; the synonyms are in place
        logger.warning("searchindex: drain after the synonym swap failed", exc_info=True)
    return SynonymsApplied(index=index, changed=True)


def _clone_with_rules(rules: list[str]) -> str:
    """Under both locks: the live index cloned with `rules`, behind the alias; returns its name."""
    # A clone waits for its shard to start; on a busy node that outlasts the usual timeout.
    es = admin_client(timeout=CLONE_TIMEOUT_SECONDS)
    live = alias_indices()
    if len(live) != 1:
        raise RuntimeError(f"the products alias points at {live}, not at one index")
    source = live[0]
    if live_synonym_rules(source) == rules:  # a concurrent apply got here first
        _write_block(source, blocked=False)
        return source
    target = index_name_new()
    # The clone flushes the write-blocked source itself and hard-links its segments.
    _write_block(source, blocked=True)
    try:
        es.indices.clone(
            index=source,
            target=target,
            settings={
                "index.blocks.write": None,
                # Only the synonym filter changes: the other analyzers made the indexed text.
                "analysis": {"filter": {FILTER: synonym_filter(rules)}},
            },
            wait_for_active_shards="1",
            timeout=CLONE_TIMEOUT,
        )
        es.cluster.health(index=target, wait_for_status="yellow", timeout=CLONE_TIMEOUT)
        es.indices.refresh(index=target)
        alias_swap(index=target)
    except BaseException:
        # A swap whose answer was lost may still have happened: never delete the live index.
        if target not in alias_indices():
            es.indices.delete(index=target, ignore_unavailable=True)
            _write_block(source, blocked=False)
        raise
    es.indices.delete(index=source, ignore_unavailable=True)
    logger.info("searchindex: synonyms swapped in: %s -> %s (%s rules)", source, target, len(rules))
    return target


def _write_blocked(index: str) -> bool:
    found = es_client().indices.get_settings(index=index, name="index.blocks.write")
    blocks = found.get(index, {}).get("settings", {}).get("index", {}).get("blocks", {})
    return blocks.get("write") == "true"


def _write_block(index: str, *, blocked: bool) -> None:
    """Block or unblock writes; unblocking also heals a swap that died between the two."""
    try:
        admin_client(timeout=CLONE_TIMEOUT_SECONDS).indices.put_settings(
            index=index, settings={"index.blocks.write": True if blocked else None}
        )
    except NotFoundError:
        if blocked:
            raise
