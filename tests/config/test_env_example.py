"""`.env.example` lists every variable the settings and the compose files read, each with its
default and one line of meaning, and nothing they no longer read."""

import ast
import operator
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = {
    "settings": ROOT / "config" / "settings.py",
    "settings_test": ROOT / "config" / "settings_test.py",
}
# The application's packages (not tests/, bench/, scripts/ or docker/).
APP_PACKAGES = sorted(p.parent for p in ROOT.glob("*/apps.py")) + [ROOT / "config"]
COMPOSE_FILES = [ROOT / "docker-compose.yml", ROOT / "docker" / "compose.production.yml"]
READERS = {"env_str", "env_bool", "env_int", "env_list"}
# What each reader returns when the variable is unset and no default is given.
IMPLICIT_DEFAULTS = {"env_str": "", "env_bool": False, "env_list": ""}
SECTIONS = {
    "# === Read by config/settings.py ===": "settings",
    "# === Read by config/settings_test.py (the test suite only) ===": "settings_test",
    "# === Read by the application's code outside the settings ===": "code",
    "# === Read by Docker Compose only (docker-compose.yml, docker/compose.production.yml) ===": (
        "compose"
    ),
}
_OPERATORS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul}
_UNKNOWN = object()


def module_constants(tree: ast.Module) -> dict[str, object]:
    """Module-level `NAME = <literal>` assignments, for defaults given by name."""
    constants: dict[str, object] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    constants[target.id] = node.value.value
    return constants


def evaluate(node: ast.expr, constants: dict[str, object]) -> object:
    """A literal default's value (constants, names of constants, arithmetic); else _UNKNOWN."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return constants.get(node.id, _UNKNOWN)
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        left, right = evaluate(node.left, constants), evaluate(node.right, constants)
        if isinstance(left, int) and isinstance(right, int):
            return _OPERATORS[type(node.op)](left, right)
    return _UNKNOWN


def settings_reads(path: Path) -> dict[str, object]:
    """Every `env_*("NAME", default)` call in a settings module: NAME -> its default."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    constants = module_constants(tree)
    reads: dict[str, object] = {}
    for node in ast.walk(tree):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in READERS
        ):
            continue
        name_node = node.args[0]
        assert isinstance(name_node, ast.Constant), f"{path.name}: a variable name not literal"
        assert isinstance(name_node.value, str), f"{path.name}: a variable name not a string"
        default = node.args[1] if len(node.args) > 1 else None
        default = next((k.value for k in node.keywords if k.arg == "default"), default)
        reads[name_node.value] = (
            IMPLICIT_DEFAULTS[node.func.id] if default is None else evaluate(default, constants)
        )
    return reads


def as_env_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def env_example() -> dict[str, dict[str, tuple[str, str]]]:
    """Section -> NAME -> (value, the comment line above it)."""
    sections: dict[str, dict[str, tuple[str, str]]] = {}
    section = None
    previous = ""
    for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines():
        if line in SECTIONS:
            section = SECTIONS[line]
            sections[section] = {}
        elif match := re.fullmatch(r"([A-Z][A-Z0-9_]*)=(.*)", line):
            assert section is not None, f"{match[1]} comes before any section heading"
            assert match[1] not in sections[section], f"{match[1]} is listed twice"
            sections[section][match[1]] = (match[2], previous)
        previous = line
    return sections


def compose_reads() -> dict[str, str]:
    """`${NAME:-default}` (or `${NAME:?message}`, no default) in the compose files."""
    reads: dict[str, str] = {}
    for path in COMPOSE_FILES:
        text = path.read_text(encoding="utf-8")
        for name, op, rest in re.findall(r"\$\{([A-Z][A-Z0-9_]*)(?:(:-|:\?)([^}]*))?\}", text):
            if op == ":-":
                reads[name] = rest
            else:
                reads.setdefault(name, "")
    return reads


def code_reads(packages: list[Path]) -> dict[str, str]:
    """Literal-name `os.environ.get("NAME", "default")` / `os.getenv` calls: NAME -> default."""
    reads: dict[str, str] = {}
    pattern = r"os\.(?:environ\.get|getenv)\(\s*\"([A-Z][A-Z0-9_]*)\"(?:\s*,\s*\"([^\"]*)\")?"
    for package in packages:
        for path in package.rglob("*.py"):
            for name, default in re.findall(pattern, path.read_text(encoding="utf-8")):
                reads[name] = default
    return reads


def test_variables_the_code_reads_outside_the_settings_are_listed_with_their_default():
    reads = code_reads(APP_PACKAGES)
    listed = env_example()["code"]

    assert reads, "found no reads at all"
    assert set(reads) == set(listed)
    for name, default in reads.items():
        assert listed[name][0] == default, f"{name}: not the default {default!r}"


def test_the_code_reader_finds_names_and_defaults(tmp_path):
    (tmp_path / "m.py").write_text(
        'A = os.environ.get("A_DIR", "/x")\nB = os.getenv("B_FLAG")\nC = os.environ.get(name)\n'
    )

    assert code_reads([tmp_path]) == {"A_DIR": "/x", "B_FLAG": ""}


@pytest.mark.parametrize("module", list(SETTINGS))
def test_every_variable_the_settings_read_is_listed_and_nothing_stale(module):
    read = set(settings_reads(SETTINGS[module]))
    listed = set(env_example()[module])

    assert read - listed == set(), "read by the settings, missing from .env.example"
    assert listed - read == set(), "in .env.example, no longer read by the settings"


@pytest.mark.parametrize("module", list(SETTINGS))
def test_each_listed_value_is_the_settings_default(module):
    listed = env_example()[module]
    for name, default in settings_reads(SETTINGS[module]).items():
        if default is _UNKNOWN:  # a default computed at run time (e.g. by AISLE_ENV)
            continue
        assert listed[name][0] == as_env_text(default), f"{name}: not the default {default!r}"


def test_every_entry_has_one_line_of_meaning():
    for section in env_example().values():
        for name, (_, comment) in section.items():
            assert comment.startswith("# "), f"{name} has no comment line above it"
            assert comment not in SECTIONS, f"{name} has no comment line above it"
            assert len(comment) > 10, f"{name}: say what it means"


def test_compose_only_variables_are_listed_with_the_compose_default():
    settings_names = set(settings_reads(SETTINGS["settings"]))
    compose = {k: v for k, v in compose_reads().items() if k not in settings_names}
    listed = env_example()["compose"]

    assert set(compose) == set(listed)
    for name, default in compose.items():
        if default:
            assert listed[name][0] == default, f"{name}: not the compose default {default!r}"


def test_the_reader_finds_calls_defaults_and_names(tmp_path):
    module = tmp_path / "settings.py"
    module.write_text(
        '_KEY = "k"\n'
        'A = env_str("A_STR", "x")\n'
        'B = env_int("B_INT", 2 * 1024)\n'
        'C = env_bool("C_BOOL", default=True)\n'
        'D = env_list("D_LIST")\n'
        'E = env_str("E_NAMED", _KEY)\n'
        'F = env_list("F_COMPUTED", "" if PRODUCTION else "a,b")\n'
        'G = {"x": float(env_str("G_NESTED", "0.5"))}\n'
    )

    assert settings_reads(module) == {
        "A_STR": "x",
        "B_INT": 2048,
        "C_BOOL": True,
        "D_LIST": "",
        "E_NAMED": "k",
        "F_COMPUTED": _UNKNOWN,
        "G_NESTED": "0.5",
    }
