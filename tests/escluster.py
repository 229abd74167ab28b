"""A local Elasticsearch cluster for drills: start, stop, SIGKILL and restart nodes by number.

Nodes are started by `scripts/services.sh` (es-cluster-up, es-node-start N) and killed here by
the pid files it writes. Ports: HTTP `port..port+nodes-1`, transport `port+100..`.

    .venv/bin/python tests/escluster.py up|stop|status|kill N|start N

(AISLE_ES_CLUSTER_PORT, default 9260, and AISLE_ES_CLUSTER_NODES, default 3, pick the cluster.)
"""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SERVICES = REPO / "scripts" / "services.sh"
DEFAULT_PORT = 9260
DEFAULT_NODES = 3


@dataclass(frozen=True)
class LocalCluster:
    port: int = DEFAULT_PORT
    nodes: int = DEFAULT_NODES

    @classmethod
    def from_env(cls) -> "LocalCluster":
        return cls(
            port=int(os.environ.get("AISLE_ES_CLUSTER_PORT", DEFAULT_PORT)),
            nodes=int(os.environ.get("AISLE_ES_CLUSTER_NODES", DEFAULT_NODES)),
        )

    @property
    def urls(self) -> list[str]:
        return [f"http://127.0.0.1:{self.port + i}" for i in range(self.nodes)]

    @property
    def url_list(self) -> str:
        """The comma-separated form ELASTICSEARCH_URL takes."""
        return ",".join(self.urls)

    def _services(self, *args: str) -> None:
        env = {**os.environ, "AISLE_ES_NODES": str(self.nodes), "AISLE_ES_PORT": str(self.port)}
        subprocess.run(["bash", str(SERVICES), *args], env=env, check=True)  # noqa: S603,S607

    def pidfile(self, node: int) -> Path:
        cache = Path(os.environ.get("AISLE_CACHE", "/var/cache/aisle"))
        return cache / f"es-cluster-{self.port}" / f"node{node}" / "run" / "es.pid"

    def pid(self, node: int) -> int | None:
        try:
            return int(self.pidfile(node).read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    def up(self) -> None:
        self._services("es-cluster-up")

    def stop(self) -> None:
        self._services("es-cluster-stop")

    def kill(self, node: int) -> None:
        """SIGKILL node `node` (1-based): no shutdown, as a crash or an OOM kill would be."""
        pid = self.pid(node)
        if pid is None:
            raise RuntimeError(f"node {node} has no pid file")
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        self.pidfile(node).unlink(missing_ok=True)

    def stop_node(self, node: int, timeout: float = 60) -> None:
        """SIGTERM node `node`: a clean shutdown, as a rolling upgrade does; waits for it."""
        pid = self.pid(node)
        if pid is None:
            raise RuntimeError(f"node {node} has no pid file")
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.2)
        else:
            os.kill(pid, signal.SIGKILL)
        self.pidfile(node).unlink(missing_ok=True)

    def start(self, node: int) -> None:
        """Start node `node` again on its data directory; returns once it has started."""
        self._services("es-node-start", str(node))

    def get(self, path: str, *, node: int | None = None, timeout: float = 5) -> dict | list:
        """GET from the first node that answers (or from `node`)."""
        candidates = [self.urls[node - 1]] if node else self.urls
        error: Exception | None = None
        for url in candidates:
            try:
                with urllib.request.urlopen(f"{url}{path}", timeout=timeout) as response:  # noqa: S310
                    return json.loads(response.read())
            except (urllib.error.URLError, OSError) as exc:
                error = exc
        raise RuntimeError(f"no node answered {path}: {error}")

    def health(self) -> dict:
        health = self.get("/_cluster/health")
        assert isinstance(health, dict)
        return health

    def master(self) -> int:
        """The elected master's node number."""
        name = self.get("/_cat/master?format=json")[0]["node"]
        return int(name.rsplit("-", 1)[1])

    def wait_for(
        self, *, status: str = "green", nodes: int | None = None, timeout: float = 180
    ) -> float:
        """Seconds until the cluster has `nodes` nodes (default all) and `status`."""
        started = time.monotonic()
        want = nodes or self.nodes
        ranks = {"red": 0, "yellow": 1, "green": 2}
        while time.monotonic() - started < timeout:
            try:
                health = self.health()
            except RuntimeError:
                health = {}
            if (
                health.get("number_of_nodes") == want
                and ranks.get(str(health.get("status")), -1) >= ranks[status]
                and not health.get("relocating_shards")
            ):
                return time.monotonic() - started
            time.sleep(0.25)
        raise TimeoutError(f"cluster not {status} with {want} nodes after {timeout:g} s")


def main(argv: list[str]) -> int:
    cluster = LocalCluster.from_env()
    command, *rest = argv or ["status"]
    if command == "up":
        cluster.up()
    elif command == "stop":
        cluster.stop()
    elif command == "kill":
        cluster.kill(int(rest[0]))
    elif command == "start":
        cluster.start(int(rest[0]))
    elif command == "status":
        print(json.dumps(cluster.health(), indent=2))
        print(f"master: node {cluster.master()}")
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
