"""docker-compose.yml, the Dockerfile and docker/ agree with the app and the Docker-less path."""

import ast
import http.client
import importlib.util
import os
import re
import secrets
import shlex
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
PRODUCTION_OVERLAY = ROOT / "docker" / "compose.production.yml"
CLUSTER_OVERLAY = ROOT / "docker" / "compose.cluster.yml"
APP_SERVICES = ("web", "worker", "worker-index", "beat", "init")
BACKING_SERVICES = ("postgres", "redis", "elasticsearch")
# Names the compose file sets for programs other than Django, and the file that reads each.
NON_SETTINGS_ENV = {
    "GUNICORN_CMD_ARGS": None,  # read by gunicorn itself
    "KIBANA_URL": "docker/init.sh",
    "KIBANA_WAIT_SECONDS": "docker/kibana_data_view.py",
    "AISLE_SEED_ON_INIT": "docker/init.sh",
}
DEFAULT_RE = re.compile(r"\$\{(?P<name>\w+)(?::?-(?P<default>[^}]*))?\}")


def interpolate_defaults(value: str) -> str:
    """Resolve `${NAME:-default}` the way compose does when NAME is unset."""
    return DEFAULT_RE.sub(lambda match: match.group("default") or "", value)


def load_compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def load_overlay() -> dict:
    class ComposeLoader(yaml.SafeLoader):
        """SafeLoader that also understands compose's !reset and !override merge tags."""

    def tagged(tag: str):
        def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict:
            value: Any
            if isinstance(node, yaml.SequenceNode):
                value = loader.construct_sequence(node)
            elif isinstance(node, yaml.MappingNode):
                value = loader.construct_mapping(node)
            else:
                assert isinstance(node, yaml.ScalarNode), node
                value = loader.construct_scalar(node)
            return {tag: value}

        return construct

    ComposeLoader.add_constructor("!reset", tagged("!reset"))
    ComposeLoader.add_constructor("!override", tagged("!override"))
    return yaml.load(PRODUCTION_OVERLAY.read_text(), Loader=ComposeLoader)  # noqa: S506 - SafeLoader subclass


def load_script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "docker" / f"{name}.py")
    assert spec is not None, name
    assert spec.loader is not None, name
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def settings_env_names() -> set[str]:
    """Every environment variable name config/settings.py reads, found in its syntax tree."""
    tree = ast.parse((ROOT / "config" / "settings.py").read_text())
    readers = {"env_str", "env_bool", "env_int", "env_list", "getenv", "get"}
    names = set()
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and node.args):
            continue
        func = node.func
        called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        first = node.args[0]
        if called in readers and isinstance(first, ast.Constant) and isinstance(first.value, str):
            names.add(first.value)
    return names


def compose_cli() -> list[str] | None:
    """`docker compose` (the v2 plugin) if it answers, else standalone docker-compose, else None."""
    docker = shutil.which("docker")
    if docker:
        probe = subprocess.run(  # noqa: S603 - fixed argv
            [docker, "compose", "version"], capture_output=True, check=False
        )
        if probe.returncode == 0:
            return [docker, "compose"]
    standalone = shutil.which("docker-compose")
    return [standalone] if standalone else None


def compose_cli_or_skip() -> list[str]:
    """The compose client; skipped without one, except under `make test`, which installs it
    (Debian's docker-compose) and sets AISLE_REQUIRE_COMPOSE_CLI, so there a missing client
    fails the run instead of quietly skipping the check."""
    cli = compose_cli()
    if cli is None:
        if os.environ.get("AISLE_REQUIRE_COMPOSE_CLI") == "1":
            pytest.fail("no compose client: scripts/test_tools.sh should have installed one")
        pytest.skip("neither `docker compose` nor `docker-compose` is installed")
    return cli


def compose_run(
    cli: list[str], *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`<cli> -f docker-compose.yml <args>` from the repository; COMPOSE_* variables of the
    caller's environment left out unless `env` is given."""
    if env is None:
        env = {key: value for key, value in os.environ.items() if not key.startswith("COMPOSE_")}
    return subprocess.run(  # noqa: S603 - argv built from fixed parts
        [*cli, "-f", str(COMPOSE_FILE), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- the compose file as a whole --------------------------------------------------------------


def test_compose_file_is_valid_for_the_docker_compose_cli():
    result = compose_run(compose_cli_or_skip(), "config", "-q")
    assert result.returncode == 0, result.stderr


def test_cluster_overlay_is_valid_for_the_docker_compose_cli():
    result = compose_run(compose_cli_or_skip(), "-f", str(CLUSTER_OVERLAY), "config")
    assert result.returncode == 0, result.stderr
    merged = yaml.safe_load(result.stdout)["services"]
    nodes = ("elasticsearch", "elasticsearch-2", "elasticsearch-3")
    names = {merged[node]["environment"]["node.name"] for node in nodes}
    assert names == set(nodes)
    for node in nodes:
        env_ = merged[node]["environment"]
        assert env_.get("discovery.type", "multi-node") == "multi-node", node
        assert env_["cluster.name"] == "aisle", node
        assert set(env_["cluster.initial_master_nodes"].split(",")) == set(nodes), node
        assert set(env_["discovery.seed_hosts"].split(",")) == set(nodes), node
        assert "/_cluster/health" in " ".join(merged[node]["healthcheck"]["test"]), node
        assert any(":/usr/share/elasticsearch/data" in v for v in merged[node]["volumes"]), node
    volumes = [tuple(merged[node]["volumes"]) for node in nodes]
    assert len(set(volumes)) == 3  # each node its own data
    read_by_settings = settings_env_names()
    for name in APP_SERVICES:
        app_env = merged[name]["environment"]
        urls = app_env["ELASTICSEARCH_URL"].split(",")
        assert [urlsplit(url).hostname for url in urls] == list(nodes), name
        assert app_env["ELASTICSEARCH_REPLICAS"] == "1", name
        assert int(app_env["ELASTICSEARCH_SHARDS"]) >= 1, name
        for variable in ("ELASTICSEARCH_SHARDS", "ELASTICSEARCH_REPLICAS"):
            assert variable in read_by_settings
        assert "SEARCH_ANALYTICS_REPLICAS" in read_by_settings
        # The base file's secrets and URLs survive the overlay.
        assert "DATABASE_URL" in app_env, name
        for node in nodes:
            assert merged[name]["depends_on"][node]["condition"] == "service_healthy", name


def test_production_overlay_is_valid_for_docker_compose_v2():
    cli = compose_cli()
    if cli is None or cli[-1] != "compose":
        pytest.skip("the overlay's !reset tag needs the Docker Compose v2 plugin, not installed")
    env = {
        **os.environ,
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "api.aisle.test",
        "POSTGRES_PASSWORD": "not-the-default",
        "REDIS_PASSWORD": "not-the-default-either",
        "TRUSTED_PROXIES": "172.16.0.0/12",
    }
    result = compose_run(cli, "-f", str(PRODUCTION_OVERLAY), "config", "-q", env=env)
    assert result.returncode == 0, result.stderr


def test_the_stack_has_every_service_the_design_names():
    services = load_compose()["services"]
    assert set(services) == {*BACKING_SERVICES, "kibana", *APP_SERVICES}
    assert interpolate_defaults(services["postgres"]["image"]) == "postgres:16"
    assert interpolate_defaults(services["redis"]["image"]) == "redis:7"


def test_every_long_running_service_has_a_healthcheck():
    services = load_compose()["services"]
    for name, service in services.items():
        if name == "init":  # a one-shot: "healthy" is "exited 0", which dependants wait for
            continue
        check = service.get("healthcheck")
        assert check, f"{name} has no healthcheck"
        assert not check.get("disable"), f"{name} disables its healthcheck"
        assert check["test"][0] in {"CMD", "CMD-SHELL"}, name
        assert len(check["test"]) > 1, name


def test_healthchecks_probe_what_each_service_serves():
    services = load_compose()["services"]
    probes = {
        name: " ".join(service["healthcheck"]["test"])
        for name, service in services.items()
        if "healthcheck" in service
    }
    assert "pg_isready" in probes["postgres"]
    assert "redis-cli ping" in probes["redis"]
    assert "/_cluster/health" in probes["elasticsearch"]
    assert "/api/status" in probes["kibana"]
    assert "docker/healthcheck.py" in probes["web"]
    assert "inspect ping" in probes["worker"]
    assert "inspect ping" in probes["worker-index"]
    assert "celerybeat.pid" in probes["beat"]
    # The web image is python:slim without curl: its probe must not need curl.
    assert "curl" not in probes["web"]


def test_web_worker_beat_and_init_share_one_image_built_from_the_dockerfile():
    services = load_compose()["services"]
    builds = {name: services[name].get("build") for name in APP_SERVICES}
    images = {name: services[name].get("image") for name in APP_SERVICES}
    assert len({repr(build) for build in builds.values()}) == 1, builds
    assert len(set(images.values())) == 1, images
    assert builds["web"] in (".", {"context": "."}), builds["web"]


def test_app_services_run_gunicorn_worker_beat_and_the_init_script():
    services = load_compose()["services"]
    assert services["web"]["command"] == ["gunicorn", "config.wsgi:application"]
    assert services["worker"]["command"][:6] == ["celery", "-A", "config", "worker", "-l", "info"]
    assert services["worker-index"]["command"][:6] == services["worker"]["command"][:6]
    assert services["beat"]["command"][:6] == ["celery", "-A", "config", "beat", "-l", "info"]
    assert services["init"]["restart"] == "no"


def test_depends_on_waits_for_healthy_services_and_a_finished_init():
    services = load_compose()["services"]
    for name, service in services.items():
        depends = service.get("depends_on", {})
        assert isinstance(depends, dict), f"{name}: depends_on must name a condition"
        for dependency, rule in depends.items():
            wanted = {"init": "service_completed_successfully"}.get(dependency, "service_healthy")
            if (name, dependency) == ("init", "kibana"):
                # init polls Kibana itself, so migrate/seed/index overlap Kibana's slow boot.
                wanted = "service_started"
            assert rule["condition"] == wanted, f"{name} -> {dependency}: {rule}"
    for name in APP_SERVICES:
        assert set(BACKING_SERVICES) <= set(services[name]["depends_on"]), name
    for name in ("web", "worker", "worker-index", "beat"):
        assert "init" in services[name]["depends_on"], name
    assert "elasticsearch" in services["kibana"]["depends_on"]


def test_elasticsearch_and_kibana_run_the_version_services_sh_runs():
    services = load_compose()["services"]
    es_image = interpolate_defaults(services["elasticsearch"]["image"])
    kibana_image = interpolate_defaults(services["kibana"]["image"])
    assert es_image.startswith("docker.elastic.co/elasticsearch/elasticsearch:")
    assert kibana_image.startswith("docker.elastic.co/kibana/kibana:")
    es_version = es_image.rsplit(":", 1)[1]
    assert kibana_image.rsplit(":", 1)[1] == es_version
    script = (ROOT / "scripts" / "services.sh").read_text()
    match = re.search(r'ES_VERSION="\$\{AISLE_ES_VERSION:-([^}]+)\}"', script)
    assert match, "scripts/services.sh no longer sets ES_VERSION from AISLE_ES_VERSION"
    assert es_version == match.group(1)
    client = re.search(r"^elasticsearch==(\S+)$", (ROOT / "requirements.txt").read_text(), re.M)
    assert client, "requirements.txt does not pin the elasticsearch client"
    assert client.group(1).split(".")[0] == es_version.split(".")[0]


def test_elasticsearch_is_a_single_node_with_a_fixed_heap_and_security_off_for_local_use():
    service = load_compose()["services"]["elasticsearch"]
    env = service["environment"]
    assert env["discovery.type"] == "single-node"
    assert str(env["xpack.security.enabled"]).lower() == "false"
    assert env["ES_JAVA_OPTS"] == "-Xms512m -Xmx512m"
    # Saying so is part of the deal: the file must warn that this is for local use only.
    assert "LOCAL USE ONLY" in COMPOSE_FILE.read_text()
    assert any(volume.endswith(":/usr/share/elasticsearch/data") for volume in service["volumes"])


def test_postgres_and_elasticsearch_keep_their_data_in_named_volumes():
    compose = load_compose()
    assert {"postgres-data", "elasticsearch-data"} <= set(compose["volumes"])
    assert "postgres-data:/var/lib/postgresql/data" in compose["services"]["postgres"]["volumes"]


def test_app_environment_names_are_ones_the_app_reads():
    services = load_compose()["services"]
    read_by_settings = settings_env_names()
    assert {"DATABASE_URL", "REDIS_URL", "ELASTICSEARCH_URL"} <= read_by_settings  # parser works
    for name in APP_SERVICES:
        for variable in services[name]["environment"]:
            if variable in read_by_settings:
                continue
            assert variable in NON_SETTINGS_ENV, f"{name} sets {variable}, which nothing reads"
            reader = NON_SETTINGS_ENV[variable]
            if reader:
                assert variable in (ROOT / reader).read_text(), f"{reader} never reads {variable}"
    required = {
        "AISLE_ENV", "DJANGO_DEBUG", "DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DATABASE_URL",
        "REDIS_URL", "CELERY_BROKER_URL", "ELASTICSEARCH_URL", "ELASTICSEARCH_INDEX_PREFIX",
    }  # fmt: skip
    for name in APP_SERVICES:
        assert required <= set(services[name]["environment"]), name


def test_app_services_reach_backing_services_by_their_compose_names():
    env = load_compose()["services"]["web"]["environment"]
    assert "@postgres:5432/" in interpolate_defaults(env["DATABASE_URL"])
    for name in ("REDIS_URL", "CELERY_BROKER_URL"):
        url = urlsplit(interpolate_defaults(env[name]))
        assert (url.scheme, url.hostname, url.port) == ("redis", "redis", 6379), name
    assert env["REDIS_URL"] != env["CELERY_BROKER_URL"]  # cache flushes must not eat the queue
    assert env["ELASTICSEARCH_URL"] == "http://elasticsearch:9200"


def redis_server_options(command: list[str]) -> dict[str, str]:
    """`["redis-server", "--name", "value", ...]` as `{"name": "value"}`."""
    assert command[0] == "redis-server", command  # the image drops root only for redis-server
    pairs = command[1:]
    return {pairs[i].removeprefix("--"): pairs[i + 1] for i in range(0, len(pairs), 2)}


def test_redis_asks_for_the_password_the_app_urls_carry():
    services = load_compose()["services"]
    redis = services["redis"]
    password = redis_server_options(redis["command"])["requirepass"]
    assert password.startswith("${REDIS_PASSWORD")  # overridable from env/.env
    assert interpolate_defaults(password)
    # The health check's redis-cli authenticates through REDISCLI_AUTH, with the same password.
    assert redis["environment"]["REDISCLI_AUTH"] == password
    for name in APP_SERVICES:
        env = services[name]["environment"]
        for variable in ("REDIS_URL", "CELERY_BROKER_URL"):
            url = urlsplit(interpolate_defaults(env[variable]))
            assert url.password == interpolate_defaults(password), (name, variable)


def test_redis_has_a_memory_cap_that_never_evicts_the_broker_queue():
    options = redis_server_options(load_compose()["services"]["redis"]["command"])
    assert re.fullmatch(r"\d+[kmg]b", interpolate_defaults(options["maxmemory"]))
    # Only keys with a TTL (cache, throttle counters) are evicted; the Celery broker's queues
    # have none. allkeys-lru could drop queued tasks, noeviction would fail every write.
    assert options["maxmemory-policy"] == "volatile-lru"


def test_services_sh_starts_redis_with_the_same_eviction_policy():
    script = (ROOT / "scripts" / "services.sh").read_text()
    start = script[script.index("redis-server --daemonize") :]
    start = start[: start.index("|| fail")]
    assert "--maxmemory-policy volatile-lru" in start
    assert '--maxmemory "$REDIS_MAXMEMORY"' in start
    assert "--bind 127.0.0.1" in start


def test_compose_default_secret_key_is_refused_in_production():
    env = load_compose()["services"]["web"]["environment"]
    default_key = interpolate_defaults(env["DJANGO_SECRET_KEY"])
    assert env["DJANGO_SECRET_KEY"].startswith("${DJANGO_SECRET_KEY")  # overridable from env/.env
    result = subprocess.run(
        [sys.executable, "-c", "import config.settings"],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "AISLE_ENV": "production",
            "DJANGO_SECRET_KEY": default_key,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_init_runs_migrate_then_seed_then_rebuild_index_then_the_kibana_data_view():
    command = load_compose()["services"]["init"]["command"]
    assert command[:1] == ["sh"], command
    script = (ROOT / command[1]).read_text()
    assert "set -eu" in script  # a failed step stops init, so web/worker/beat never start
    steps = [
        "python manage.py migrate --noinput",
        "python manage.py seed_data --if-empty",
        "python manage.py rebuild_index",
        "python docker/kibana_data_view.py",
    ]
    positions = [script.find(step) for step in steps]
    assert all(position >= 0 for position in positions), dict(zip(steps, positions, strict=True))
    assert positions == sorted(positions)
    sh = shutil.which("sh")
    assert sh is not None, "no sh on PATH"
    subprocess.run([sh, "-n", str(ROOT / command[1])], check=True)  # noqa: S603


def test_only_web_and_kibana_publish_ports_and_kibana_only_on_loopback():
    services = load_compose()["services"]
    published = {name for name, service in services.items() if service.get("ports")}
    assert published == {"web", "kibana"}
    assert [interpolate_defaults(port) for port in services["web"]["ports"]] == ["8000:8000"]
    assert [interpolate_defaults(port) for port in services["kibana"]["ports"]] == [
        "127.0.0.1:5601:5601"
    ]
    for name in BACKING_SERVICES:
        assert "network_mode" not in services[name], name


def test_production_overlay_requires_secrets_unpublishes_kibana_and_skips_demo_data():
    overlay = load_overlay()["services"]
    assert overlay["kibana"]["ports"] == {"!reset": []}
    for name in APP_SERVICES:
        env = overlay[name]["environment"]
        assert env["AISLE_ENV"] == "production", name
        assert env["DJANGO_SECRET_KEY"].startswith("${DJANGO_SECRET_KEY:?"), name
        assert env["DJANGO_ALLOWED_HOSTS"].startswith("${DJANGO_ALLOWED_HOSTS:?"), name
        assert "${POSTGRES_PASSWORD:?" in env["DATABASE_URL"], name
        assert "${REDIS_PASSWORD:?" in env["REDIS_URL"], name
        assert "${REDIS_PASSWORD:?" in env["CELERY_BROKER_URL"], name
    assert overlay["init"]["environment"]["AISLE_SEED_ON_INIT"] == "0"
    assert overlay["postgres"]["environment"]["POSTGRES_PASSWORD"].startswith(
        "${POSTGRES_PASSWORD:?"
    )
    # Behind the proxy, X-Forwarded-For must be believed from it (and only from it), or every
    # client shares the proxy's address; the operator has to say which address that is.
    web_env = overlay["web"]["environment"]
    assert web_env["TRUSTED_PROXIES"].startswith("${TRUSTED_PROXIES:?")
    assert "TRUSTED_PROXIES" in settings_env_names()
    # The admin can be turned off or moved to its own host from the environment.
    assert {"ADMIN_ENABLED", "ADMIN_HOST"} <= set(web_env) & settings_env_names()
    redis = overlay["redis"]
    options = redis_server_options(redis["command"])
    assert options["requirepass"].startswith("${REDIS_PASSWORD:?")
    assert options["maxmemory-policy"] == "volatile-lru"
    assert redis["environment"]["REDISCLI_AUTH"] == options["requirepass"]


# --- the Dockerfile and its build context -----------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
        for line in lines
        if line and not line.startswith("#")
    ]


def test_dockerfile_builds_on_slim_python_and_runs_as_a_non_root_user():
    instructions = dockerfile_instructions()
    bases = [args for op, args in instructions if op == "FROM"]
    assert bases, "no FROM line"
    assert all(re.match(r"python:3\.11(\.\d+)?-slim", base) for base in bases), bases
    users = [index for index, (op, _) in enumerate(instructions) if op == "USER"]
    assert users, "the image never switches away from root"
    final_user = instructions[users[-1]][1].split(":")[0]
    assert final_user not in {"root", "0"}
    runs = [index for index, (op, _) in enumerate(instructions) if op == "RUN"]
    assert users[-1] > runs[-1], "USER must come after the last RUN (builds as root, runs as not)"


def test_dockerfile_installs_pinned_requirements_without_cache_and_collects_static():
    instructions = dockerfile_instructions()
    runs = " ".join(args for op, args in instructions if op == "RUN")
    assert "pip install --no-cache-dir -r requirements.txt" in runs
    assert "collectstatic --noinput" in runs
    assert ("EXPOSE", "8000") in instructions
    assert ("CMD", '["gunicorn", "config.wsgi:application"]') in instructions


def test_dockerfile_collectstatic_step_loads_production_settings_with_its_build_env():
    runs = [args for op, args in dockerfile_instructions() if op == "RUN"]
    step = next(args for args in runs if "collectstatic" in args)
    words = shlex.split(step)
    assignments = dict(word.split("=", 1) for word in words[: words.index("python")])
    assert assignments.get("AISLE_ENV") == "production"
    # The build must not inherit settings from whoever runs the test.
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "AISLE_", "DATABASE_", "ELASTICSEARCH_"))
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--dry-run", "-v", "0"],
        cwd=ROOT,
        env={**env, **assignments, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]


def test_dockerignore_keeps_secrets_and_local_state_out_but_not_what_the_image_runs():
    patterns = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".git", ".venv", ".env", "staticfiles"} <= patterns
    needed = ["requirements.txt", "manage.py", "config", "docker", "docker/init.sh",
              "docker/kibana_data_view.py", "docker/healthcheck.py"]  # fmt: skip
    for path in needed:
        assert path not in patterns, f".dockerignore drops {path}, which the image needs"
        assert (ROOT / path).exists(), path


# --- docker/ helpers --------------------------------------------------------------------------


def test_kibana_data_view_targets_the_products_alias_with_a_stable_id():
    kibana = load_script("kibana_data_view")
    assert kibana.data_view_spec("") == {
        "id": "aisle-products",
        "name": "Aisle products",
        "title": "products",
        "timeFieldName": "created_at",
    }
    # Same prefix rule as the app's index names, so a prefixed deployment gets its own view.
    assert kibana.data_view_spec("staging_")["title"] == "staging_products"


def test_kibana_data_view_matches_the_product_documents_alias_and_time_field(settings):
    from searchindex.client import ALIAS
    from searchindex.documents import ProductDocument

    spec = load_script("kibana_data_view").data_view_spec(settings.ELASTICSEARCH_INDEX_PREFIX)
    assert spec["title"] == ALIAS
    properties = ProductDocument._doc_type.mapping.to_dict()["properties"]
    assert properties[spec["timeFieldName"]]["type"] == "date"


def test_kibana_data_view_step_fails_loudly_when_kibana_never_answers():
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "docker/kibana_data_view.py", "--kibana-url", "http://127.0.0.1:1",
         "--wait", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert "Kibana at http://127.0.0.1:1 was not available" in result.stderr
    assert time.monotonic() - started < 20


def test_web_healthcheck_picks_a_host_django_accepts():
    health = load_script("healthcheck")
    assert health.probe_host("api.aisle.test,www.aisle.test") == "api.aisle.test"
    assert health.probe_host(" *, .aisle.test") == "aisle.test"
    assert health.probe_host("") == "localhost"


@pytest.fixture
def production_gunicorn():
    """The image's web command, run with production settings on a free loopback port."""
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "AISLE_ENV": "production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "api.aisle.test",
        "GUNICORN_CMD_ARGS": f"--bind 127.0.0.1:{port} --workers 1 --timeout 30",
    }
    process = subprocess.Popen(  # noqa: S603 - fixed argv, local server for this test only
        [str(Path(sys.executable).parent / "gunicorn"), "config.wsgi:application"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        # The master binds before its worker boots: wait for any HTTP answer, whatever its status.
        deadline = time.monotonic() + 30
        while True:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            try:
                connection.request("GET", "/")
                connection.getresponse().read()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    process.kill()
                    pytest.fail(f"gunicorn did not serve: {process.communicate()[1][-3000:]!r}")
                time.sleep(0.2)
            finally:
                connection.close()
        yield port
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_web_healthcheck_passes_against_production_settings(production_gunicorn):
    env = {
        **os.environ,
        "HEALTHCHECK_PORT": str(production_gunicorn),
        "DJANGO_ALLOWED_HOSTS": "api.aisle.test",
    }
    result = subprocess.run(
        [sys.executable, "docker/healthcheck.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stdout
    # Why the probe sends Host and X-Forwarded-Proto: a bare request is not a 200 in production.
    health = load_script("healthcheck")
    healthy, detail = health.check("127.0.0.1", production_gunicorn, "127.0.0.1")
    assert not healthy, detail


def test_web_healthcheck_fails_when_nothing_listens():
    env = {**os.environ, "HEALTHCHECK_PORT": str(free_port())}
    result = subprocess.run(
        [sys.executable, "docker/healthcheck.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 1
    assert "is not healthy" in result.stdout


# --- the worker and beat probes, run against real Celery processes -------------------------------


def compose_probe(service: str, replacements: dict[str, str] | None = None) -> list[str]:
    """The service's healthcheck as an argv for this machine (compose's `$$` is a literal `$`)."""
    test = load_compose()["services"][service]["healthcheck"]["test"]
    argv = ["sh", "-c", test[1].replace("$$", "$")] if test[0] == "CMD-SHELL" else list(test[1:])
    for old, new in (replacements or {}).items():
        argv = [arg.replace(old, new) for arg in argv]
    return argv


@pytest.fixture
def celery_env(settings) -> dict[str, str]:
    """Environment for a real Celery process on this test run's own broker database."""
    venv_bin = str(Path(sys.executable).parent)
    return {
        **os.environ,
        "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "REDIS_URL": settings.CACHES["default"]["LOCATION"],
        "HOSTNAME": socket.gethostname(),  # docker sets it to the container's host name
    }


def wait_until(predicate, seconds: float, what: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {seconds:g} s")
        time.sleep(0.2)


def run_probe(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - the compose file's own healthcheck
        argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_worker_healthcheck_answers_while_the_worker_runs_and_fails_once_it_stops(
    celery_env, tmp_path
):
    log = tmp_path / "worker.log"
    with log.open("w") as out:
        worker = subprocess.Popen(  # noqa: S603 - fixed argv, local worker for this test only
            [str(Path(sys.executable).parent / "celery"), "-A", "config", "worker", "-l", "info",
             "-P", "solo", "--without-mingle", "--without-gossip"],
            cwd=ROOT, env=celery_env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_until(lambda: " ready." in log.read_text(), 60, "the worker's ready line", worker)
        healthy = run_probe(compose_probe("worker"), celery_env)
        assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    stopped = run_probe(compose_probe("worker"), celery_env)
    assert stopped.returncode != 0


def test_beat_healthcheck_passes_while_beat_runs_and_fails_once_it_stops(celery_env, tmp_path):
    pidfile = tmp_path / "celerybeat.pid"
    command = load_compose()["services"]["beat"]["command"]
    command = [arg.replace("/tmp/", f"{tmp_path}/") for arg in command]  # noqa: S108
    beat = subprocess.Popen(  # noqa: S603 - the compose file's beat command, paths moved
        [str(Path(sys.executable).parent / "celery"), *command[1:]],
        cwd=ROOT,
        env=celery_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    probe = compose_probe("beat", {"/tmp/celerybeat.pid": str(pidfile)})  # noqa: S108
    try:
        wait_until(pidfile.exists, 60, "beat's pidfile", beat)
        healthy = run_probe(probe, celery_env)
        assert healthy.returncode == 0, healthy.stderr
    finally:
        beat.terminate()
        beat.wait(timeout=30)
    # A killed beat can leave its pidfile behind; the probe must still see that nothing runs.
    pidfile.write_text(f"{beat.pid}\n")
    assert run_probe(probe, celery_env).returncode != 0
