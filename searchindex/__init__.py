"""The product search index: documents, lossless sync, search and suggest.

Imports point one way: a module imports only from the layers above it in this list
(tests/test_boundaries.py fails on any circle, deferred imports included, and prints the layers).

0. nodes (the node list; settings read it), analysis (index settings: a pure function of the
   synonym rules given), results (typed results), cache, compat, exceptions, locks, selectors,
   synonym_syntax, analytics_report, rules (query rules' part in one search request: from the
   merchandising app), explain (`explain=true`'s plain words), query_forms and title_parts
   (text rules, pure)
1. client (every Elasticsearch client, the products alias and index names), models
2. documents, analytics
3. queries (request bodies, no I/O), outbox (record and drain), drift
4. search (one search request; product_search), synonyms (rules; clone-and-swap), serializers
5. suggest, tasks (Celery tasks and their after-commit enqueues), admin
6. rebuild, signals (receivers: outbox rows, then a drain or a synonym swap after the commit),
   views
7. apps (wires the signals), urls, management commands

The catalogue, stock and order apps never import this package: it listens to their signals,
wired in apps.py. Two apps built on search do: the console (the index's operator pages) and
searchevents (it ships events through `client` into the `analytics` stream; the search views here
issue query_ids through it). tests/test_boundaries.py holds who may import what.
"""
