"""Every file and name the README's map and docs/*.md point to exists in the code."""

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"

# `path/file.py`: `name`, `Other.name` -- a path (it holds a / or a .), a colon, then names
# separated by commas.
FILE_NAMES = re.compile(r"`(?P<path>[\w-]*[/.][\w./-]*)`:\s+(?P<names>`[^`\n]+`(?:,\s+`[^`\n]+`)*)")
NAME = re.compile(r"`([^`\n]+)`")
CODE_SPAN = re.compile(r"`([^`\n]+)`")
# package.module.name, optionally called: `config.clientip.client_ip()`.
DOTTED = re.compile(r"^(?P<dotted>[a-z_]\w*(?:\.\w+){2,})(?:\(.*\))?$")
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)


@dataclass(frozen=True)
class Reference:
    source: str
    path: str
    name: str | None  # None: only the file must exist


def _map_section(text: str) -> str:
    start, end = "<!-- section:where -->", "<!-- /section:where -->"
    assert start in text, "README.md lost its 'Where things live' start marker"
    assert end in text, "README.md lost its 'Where things live' end marker"
    return text[text.index(start) : text.index(end)]


def _first_segment_exists(path: str) -> bool:
    return (ROOT / path.split("/", 1)[0]).exists()


def references(text: str, source: str) -> list[Reference]:
    """The references in `text`: what the syntax at the top of the README's map defines."""
    text = FENCE.sub("", text)
    found: list[Reference] = []
    for match in FILE_NAMES.finditer(text):
        path = match["path"]
        for name in NAME.findall(match["names"]):
            found.append(Reference(source, path, name.removesuffix("()")))
    for span in CODE_SPAN.findall(text):
        span = span.strip()
        if (
            "/" in span
            and re.fullmatch(r"[\w][\w.-]*(?:/[\w.-]+)+/?", span)
            and _first_segment_exists(span)
        ):
            found.append(Reference(source, span, None))
        dotted = DOTTED.match(span)
        if dotted:
            *package, module, name = dotted["dotted"].split(".")
            module_path = "/".join([*package, module]) + ".py"
            if (ROOT / module_path).is_file():
                found.append(Reference(source, module_path, name))
    return found


def _python_definitions(path: Path) -> set[str]:
    """Every name a def, class or assignment binds, at any level; `Class.attr` for class bodies."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()

    def bound(node: ast.AST) -> list[str]:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            return [node.name]
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign | ast.AugAssign):
            targets = [node.target]
        out: list[str] = []
        for target in targets:
            for leaf in ast.walk(target):
                if isinstance(leaf, ast.Name):
                    out.append(leaf.id)
        return out

    for node in ast.walk(tree):
        names.update(bound(node))
        if isinstance(node, ast.ClassDef):
            for child in node.body:
                names.update(f"{node.name}.{name}" for name in bound(child))
    return names


def problem(reference: Reference) -> str | None:
    """Why the reference is stale, or None if the file and the name are there."""
    target = ROOT / reference.path
    if not target.exists():
        return f"{reference.source}: `{reference.path}` does not exist"
    if reference.name is None:
        return None
    if not target.is_file():
        return f"{reference.source}: `{reference.path}` is not a file"
    if target.suffix == ".py":
        if reference.name in _python_definitions(target):
            return None
    else:
        definition = (
            rf"(?m)^\s*(?:export\s+|function\s+)?{re.escape(reference.name)}\s*(?:=|:|\(\))"
        )
        if re.search(definition, target.read_text()):
            return None
    return f"{reference.source}: `{reference.path}` defines no `{reference.name}`"


def all_references() -> list[Reference]:
    found = references(_map_section(README.read_text()), "README.md (Where things live)")
    for page in sorted(DOCS.glob("*.md")):
        found.extend(references(page.read_text(), f"docs/{page.name}"))
    return found


def test_the_map_and_the_docs_point_at_what_exists() -> None:
    found = all_references()
    stale = [p for p in map(problem, found) if p]
    assert not stale, "stale references:\n" + "\n".join(stale)


def test_the_map_has_a_reference_on_every_row() -> None:
    """Each rule row of the map names a file, so a rename cannot leave a row pointing nowhere."""
    rows = [
        line
        for line in _map_section(README.read_text()).splitlines()
        if line.startswith("| ") and not line.startswith(("| rule", "| ---"))
    ]
    assert len(rows) >= 20
    unreferenced = [row for row in rows if not references(row, "row")]
    assert not unreferenced, unreferenced


def test_the_checker_reads_the_documented_syntax() -> None:
    text = (
        "`ordering/services.py`: `order_place`, `OrderPlacement`; `config/pagination.py`;\n"
        "`ordering/idempotency.py`: `IdempotencyKey.lookup`; `config.clientip.client_ip()`\n"
        "```\n`inside/a/fence.py`: `ignored`\n```\n"
    )
    assert set(references(text, "t")) == {
        Reference("t", "ordering/services.py", "order_place"),
        Reference("t", "ordering/services.py", "OrderPlacement"),
        Reference("t", "ordering/services.py", None),
        Reference("t", "config/pagination.py", None),
        Reference("t", "ordering/idempotency.py", "IdempotencyKey.lookup"),
        Reference("t", "ordering/idempotency.py", None),
        Reference("t", "config/clientip.py", "client_ip"),
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("`searchindex/throttling.py`", "`searchindex/throttling.py` does not exist"),
        ("`config/throttling.py`: `NoSuchThrottle`", "defines no `NoSuchThrottle`"),
        ("`ordering/idempotency.py`: `IdempotencyKey.nope`", "defines no `IdempotencyKey.nope`"),
        ("`config.clientip.client_address`", "defines no `client_address`"),
        ("`scripts/services.sh`: `NO_SUCH_VARIABLE`", "defines no `NO_SUCH_VARIABLE`"),
    ],
)
def test_a_stale_reference_is_reported(text: str, expected: str) -> None:
    problems = [p for p in map(problem, references(text, "t")) if p]
    assert len(problems) == 1
    assert expected in problems[0]


def test_a_good_reference_passes() -> None:
    text = "`scripts/services.sh`: `ES_VERSION`; `config/throttling.py`: `AtomicRedisThrottle`"
    assert [problem(r) for r in references(text, "t")] == [None] * 4


# What code comments cite: the contract outside the repo, a README heading or a docs page heading.
SHARED_DOC = re.compile(r"(?<![\w./])(?:\.\./shared/docs/)?(API|DESIGN|STYLE)\.md")
README_SECTION = re.compile(r"README(?:'s)?[\s,(]*\"(?P<heading>[^\"]+)\"")
DOCS_SECTION = re.compile(r"(?<![\w./])docs/(?P<page>[\w-]+\.md)[\s,(]*\"(?P<heading>[^\"]+)\"")
CITING_FILES = ("*.py", "*.yml", "*.yaml", "*.sh", "*.toml", "Makefile", "Dockerfile", ".ci/run")


def _headings(page: Path) -> set[str]:
    text = FENCE.sub("", page.read_text())
    return {m.strip() for m in re.findall(r"(?m)^#{1,6}\s+(.+?)\s*$", text)}


def citation_problems(text: str, source: str) -> list[str]:
    problems = []
    for match in SHARED_DOC.finditer(text):
        if not match[0].startswith("../shared/docs/"):
            problems.append(f"{source}: cites {match[0]}, which lives at ../shared/docs/")
    for match in README_SECTION.finditer(text):
        if match["heading"] not in _headings(README):
            problems.append(f'{source}: README has no section "{match["heading"]}"')
    for match in DOCS_SECTION.finditer(text):
        page = DOCS / match["page"]
        if not page.is_file():
            problems.append(f"{source}: docs/{match['page']} does not exist")
        elif match["heading"] not in _headings(page):
            problems.append(f'{source}: docs/{match["page"]} has no section "{match["heading"]}"')
    return problems


def test_code_cites_docs_that_exist() -> None:
    this_dir = Path(__file__).parent
    files = {
        path
        for pattern in CITING_FILES
        for path in ROOT.glob(f"**/{pattern}" if "/" not in pattern else pattern)
        if not ({".venv", "site", "node_modules", ".git"} & set(path.relative_to(ROOT).parts))
        and path.parent != this_dir  # these tests spell the patterns out
    }
    assert len(files) > 50
    problems = [
        problem
        for path in sorted(files)
        for problem in citation_problems(path.read_text(), str(path.relative_to(ROOT)))
    ]
    assert problems == []


def test_a_stale_citation_is_reported() -> None:
    assert citation_problems('"""Keys (API.md, "Authentication")."""', "a.py") == [
        "a.py: cites API.md, which lives at ../shared/docs/"
    ]
    assert citation_problems('# see the README ("No Such Section")', "b.py") == [
        'b.py: README has no section "No Such Section"'
    ]
    assert citation_problems('# docs/search.md, "Nope"; docs/gone.md ("X")', "c.py") == [
        'c.py: docs/search.md has no section "Nope"',
        "c.py: docs/gone.md does not exist",
    ]
    assert citation_problems('# ../shared/docs/API.md; docs/search.md, "Synonyms"', "d.py") == []
