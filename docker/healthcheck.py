"""Container health check for web: GET /healthz the way the proxy would send it; 0 only on 200."""

from __future__ import annotations

import http.client
import os
import sys


def probe_host(allowed_hosts: str) -> str:
    """A Host header Django accepts: the first concrete name in DJANGO_ALLOWED_HOSTS."""
    for host in (item.strip() for item in allowed_hosts.split(",")):
        if host and host != "*":
            return host.lstrip(".")
    return "localhost"


def check(address: str, port: int, host: str, timeout: float = 4) -> tuple[bool, str]:
    connection = http.client.HTTPConnection(address, port, timeout=timeout)
    try:
        # In production Django trusts X-Forwarded-Proto and redirects plain HTTP to HTTPS; the
        # probe presents itself as the TLS-terminating proxy so it is not redirected away.
        connection.request("GET", "/healthz", headers={"Host": host, "X-Forwarded-Proto": "https"})
        response = connection.getresponse()
        return response.status == 200, f"HTTP {response.status}"
    except OSError as exc:
        return False, str(exc)
    finally:
        connection.close()


def main() -> int:
    port = int(os.environ.get("HEALTHCHECK_PORT", "8000"))
    host = probe_host(os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost"))
    healthy, detail = check("127.0.0.1", port, host)
    if not healthy:
        print(f"/healthz on 127.0.0.1:{port} (Host: {host}) is not healthy: {detail}")
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
