"""Import boundaries, read from the source with `ast`: every import counts, deferred or not."""

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = (
    "apikeys",
    "catalog",
    "config",
    "console",
    "demo",
    "inventory",
    "merchandising",
    "ordering",
    "searchevents",
    "searchindex",
)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    found = {}
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            found[_module_name(path)] = path
    return found


MODULES = _modules()


def _imported(name: str, path: Path) -> Iterator[str]:
    """Every module `name` imports, at any depth of the file (functions, TYPE_CHECKING blocks)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            yield base
            # `from searchindex import analytics` imports the module searchindex.analytics.
            yield from (f"{base}.{alias.name}" for alias in node.names)


def imports_of(name: str) -> set[str]:
    """The project modules `name` imports (names that are not modules of ours are dropped)."""
    return {
        target for target in _imported(name, MODULES[name]) if target in MODULES and target != name
    }


def _app(module: str) -> str:
    return module.split(".")[0]


def _searchindex_graph() -> dict[str, set[str]]:
    """searchindex's modules and their imports of each other; the package itself is no module
    of a layer (its __init__ holds only the docstring), nor are its migrations."""
    names = [
        name
        for name in MODULES
        if _app(name) == "searchindex" and name != "searchindex" and ".migrations" not in name
    ]
    return {name: {t for t in imports_of(name) if t in names} for name in names}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle in `graph`, as the modules along it, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (found := visit(target)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def layers(graph: dict[str, set[str]]) -> list[list[str]]:
    """The modules by layer: each imports only modules of the layers below it."""
    level: dict[str, int] = {}

    def depth(node: str) -> int:
        if node not in level:
            level[node] = 1 + max((depth(t) for t in graph[node]), default=-1)
        return level[node]

    for node in graph:
        depth(node)
    ordered: list[list[str]] = [[] for _ in range(max(level.values()) + 1)]
    for node, at in sorted(level.items()):
        ordered[at].append(node)
    return ordered


def test_no_import_circle_between_searchindex_modules():
    graph = _searchindex_graph()
    assert len(graph) > 20, "the parser found too few modules"
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])
    print("\nsearchindex layers, bottom first (each imports only from those below):")
    for at, names in enumerate(layers(graph)):
        print(f"  {at}: {', '.join(name.removeprefix('searchindex.') for name in names)}")


def test_no_import_circle_between_any_modules_of_the_project():
    """Across apps too: where two apps use each other (search views issue query_ids, search
    events ship through the index's client), the modules involved never import back."""
    names = [name for name in MODULES if ".migrations" not in name and name not in APPS]
    graph = {name: {t for t in imports_of(name) if t in names} for name in names}
    assert len(graph) > 100, "the parser found too few modules"
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


def test_the_cycle_finder_finds_a_circle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_the_parser_sees_deferred_and_relative_imports(tmp_path, monkeypatch):
    monkeypatch.setitem(MODULES, "searchindex.probe", tmp_path / "probe.py")
    (tmp_path / "probe.py").write_text(
        "def f():\n    from searchindex.tasks import drain_pending\n    from . import outbox\n"
    )
    assert imports_of("searchindex.probe") >= {"searchindex.tasks", "searchindex.outbox"}


def _app_imports(source_app: str) -> set[tuple[str, str]]:
    return {
        (name, target)
        for name in MODULES
        if _app(name) == source_app and ".migrations" not in name
        for target in imports_of(name)
    }


FORBIDDEN = [
    # (importer prefix, imported prefix, why)
    ("apikeys", "inventory", "keys hold store ids; the store model is named by a setting"),
    ("apikeys", "config", "config reaches apikeys through settings, not imports"),
    ("config", "apikeys", "the throttle learns the caller from AISLE_CALLER_RESOLVER"),
    ("catalog.admin", "inventory", "inventory adds its own inline to the product admin"),
    ("ordering.idempotency", "ordering.serializers", "idempotency stores bytes it is given"),
    ("ordering.idempotency", "rest_framework.serializers", "idempotency renders nothing"),
    # Orders verify query_ids and ask for a shipment; neither may pull in the search index.
    ("searchevents.query_ids", "searchindex", "tokens are pure HMAC, verified without a lookup"),
    ("searchevents.publishing", "searchevents.tasks", "the shipment task is named, not imported"),
    ("searchevents.issuing", "searchindex", "search views issue query_ids, never the reverse"),
    ("searchevents.hits", "searchindex", "search views keep their hits here"),
]


@pytest.mark.parametrize(("importer", "imported", "why"), FORBIDDEN)
def test_forbidden_imports(importer, imported, why):
    offending = sorted(
        f"{name} imports {target}"
        for name, path in MODULES.items()
        if (name == importer or name.startswith(f"{importer}.")) and ".migrations" not in name
        for target in _imported(name, path)
        if target == imported or target.startswith(f"{imported}.")
    )
    assert not offending, f"{why}: {offending}"


# Who may import searchindex, and what. The order, catalogue and stock apps never do: the index
# listens to their signals (wired in searchindex/apps.py). The console is the index's own
# operator UI; search events ship through its client into its analytics stream.
SEARCHINDEX_IMPORTERS = {
    "config": {"searchindex.nodes", "searchindex.client", "searchindex.urls"},
    "searchevents": {"searchindex.client", "searchindex.analytics"},
    "console": None,  # any module
}


def test_other_apps_reach_searchindex_only_through_its_signals():
    offending = []
    for app in APPS:
        if app == "searchindex":
            continue
        allowed = SEARCHINDEX_IMPORTERS.get(app, set())
        for name, target in _app_imports(app):
            if _app(target) != "searchindex" or allowed is None or target in allowed:
                continue
            if target == "searchindex":  # `from searchindex import x`: the package is a docstring
                continue
            offending.append(f"{name} imports {target}")
    assert not offending, offending
