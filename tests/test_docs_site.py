"""The docs site builds strictly, works offline, and the README's links into it resolve."""

import os
import re
import shlex
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
# A link to a page or an anchor outside the site: http(s) or protocol-relative.
REMOTE = re.compile(r"^(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)
EXPECTED_PAGES = ("index", "getting-started", "api", "search", "operations", "design", "benchmarks")


def makefile_build_args() -> list[str]:
    """The arguments `make docs` passes to `mkdocs`, so the tests build exactly as CI does."""
    recipe = re.search(r"(?m)^docs:.*\n\t(?P<line>.+)$", (ROOT / "Makefile").read_text())
    assert recipe, "the Makefile has no docs target"
    args = shlex.split(recipe["line"])
    return args[[i for i, arg in enumerate(args) if arg.endswith("/mkdocs")][0] + 1 :]


def mkdocs_build(config: Path, site_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - this interpreter's mkdocs on a config of ours
        [sys.executable, "-m", "mkdocs", *makefile_build_args()]
        + ["--config-file", str(config), "--site-dir", str(site_dir)],
        cwd=config.parent,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        check=False,
        timeout=300,
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    result = mkdocs_build(ROOT / "mkdocs.yml", out)
    assert result.returncode == 0, result.stdout + result.stderr
    return out


def test_make_docs_is_strict() -> None:
    assert makefile_build_args()[:2] == ["build", "--strict"]
    assert "--quiet" not in makefile_build_args()  # --quiet hides the warnings --strict counts


@pytest.mark.parametrize(
    ("pages", "warning"),
    [
        ({"index.md": "[gone](gone.md)"}, "gone.md"),
        ({"index.md": "[x](other.md#no-such-heading)", "other.md": "# Other"}, "no-such-heading"),
        ({"index.md": "# Home", "unlisted.md": "# Unlisted"}, "unlisted.md"),
    ],
)
def test_the_build_fails_on_a_broken_link_or_an_unlisted_page(
    tmp_path: Path, pages: dict[str, str], warning: str
) -> None:
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, text in pages.items():
        (docs / name).write_text(text + "\n")
    listed = [name for name in pages if name != "unlisted.md"]
    config.update(docs_dir="docs", nav=[{name: name} for name in listed])
    (tmp_path / "mkdocs.yml").write_text(yaml.safe_dump(config))
    result = mkdocs_build(tmp_path / "mkdocs.yml", tmp_path / "site")
    assert result.returncode != 0
    assert warning in result.stdout + result.stderr


class _Assets(HTMLParser):
    """What a page loads: script sources, linked stylesheets, icons and fonts, and element ids."""

    def __init__(self) -> None:
        super().__init__()
        self.loads: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(values["id"] or "")
        if tag == "script" and values.get("src"):
            self.loads.append(values["src"] or "")
        if tag == "link" and values.get("href"):
            rel = (values.get("rel") or "").lower()
            if rel not in {"prev", "next", "canonical"}:
                self.loads.append(values["href"] or "")


def _parse(page: Path) -> _Assets:
    parser = _Assets()
    parser.feed(page.read_text())
    return parser


def offline_problems(site_dir: Path) -> list[str]:
    """Every script, stylesheet or font a built page or stylesheet would fetch from elsewhere."""
    problems = []
    for page in sorted(site_dir.rglob("*.html")):
        for url in _parse(page).loads:
            if REMOTE.match(url):
                problems.append(f"{page.relative_to(site_dir)} loads {url}")
    for sheet in sorted(site_dir.rglob("*.css")):
        for url in re.findall(r"(?:@import\s+|url\()\s*['\"]?([^'\")\s]+)", sheet.read_text()):
            if REMOTE.match(url):
                problems.append(f"{sheet.relative_to(site_dir)} loads {url}")
    return problems


def test_every_page_is_built(site: Path) -> None:
    pages = {p.stem for p in (ROOT / "docs").glob("*.md")}
    assert set(EXPECTED_PAGES) <= pages
    for name in pages:
        assert (site / f"{name}.html").is_file(), name


def test_the_site_loads_nothing_from_the_internet(site: Path) -> None:
    assert _parse(site / "index.html").loads, "the check found no assets at all"
    assert offline_problems(site) == []


def test_the_offline_check_catches_a_cdn(tmp_path: Path) -> None:
    (tmp_path / "page.html").write_text(
        '<link rel="stylesheet" href="https://fonts.googleapis.com/css?family=Roboto">'
        '<script src="//cdn.example.com/x.js"></script><script src="assets/local.js"></script>'
    )
    (tmp_path / "a.css").write_text(
        '@import "https://cdn.example.com/y.css"; b{background:url(i.png)}'
    )
    assert offline_problems(tmp_path) == [
        "page.html loads https://fonts.googleapis.com/css?family=Roboto",
        "page.html loads //cdn.example.com/x.js",
        "a.css loads https://cdn.example.com/y.css",
    ]


def test_the_readme_links_into_the_docs_resolve(site: Path) -> None:
    links = re.findall(r"\]\(([^)\s]+)\)", (ROOT / "README.md").read_text())
    local = [link for link in links if not REMOTE.match(link)]
    assert any(link.startswith("docs/") for link in local)
    broken = []
    for link in local:
        path, _, anchor = link.partition("#")
        if not (ROOT / path).is_file():
            broken.append(f"{link}: no such file")
        elif anchor:
            assert path.startswith("docs/"), link
            assert path.endswith(".md"), link
            page = site / Path(path).relative_to("docs").with_suffix(".html")
            if anchor not in _parse(page).ids:
                broken.append(f"{link}: no such anchor")
    assert broken == []


def test_the_readme_is_a_front_page() -> None:
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= 200, f"README.md has {len(lines)} lines; move detail into docs/"


def benchmark_section_problems(text: str, targets: set[str]) -> list[str]:
    """Each `## make <target>` section names a Makefile target and dates its history lines."""
    problems = []
    sections = re.split(r"(?m)^## ", text)[1:]
    if not sections:
        problems.append("no `## make <target>` sections")
    for section in sections:
        heading, _, body = section.partition("\n")
        match = re.fullmatch(r"make ([a-z-]+)", heading.strip())
        if not match:
            problems.append(f"'## {heading}' is not '## make <target>'")
            continue
        if match[1] not in targets:
            problems.append(f"'## {heading}': no such Makefile target")
        if not re.search(r"(?m)^- \d{4}-\d{2}-\d{2}: ", body):
            problems.append(f"'## {heading}': no dated history line ('- YYYY-MM-DD: ...')")
    return problems


def _make_targets() -> set[str]:
    return set(re.findall(r"(?m)^([a-z][a-z-]*):", (ROOT / "Makefile").read_text()))


def test_each_benchmark_section_is_a_make_target_with_a_dated_history() -> None:
    text = (ROOT / "docs" / "benchmarks.md").read_text()
    assert benchmark_section_problems(text, _make_targets()) == []


def test_a_benchmark_section_without_history_is_reported() -> None:
    text = (
        "# B\n## make bench-x\nfigures\n"
        "## Notes\n- 2026-12-07: x\n"
        "## make bench-y\n- 2026-12-07: y\n"
    )
    assert benchmark_section_problems(text, {"bench-y"}) == [
        "'## make bench-x': no such Makefile target",
        "'## make bench-x': no dated history line ('- YYYY-MM-DD: ...')",
        "'## Notes' is not '## make <target>'",
    ]
