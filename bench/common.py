"""Helpers every benchmark needs: a free loopback port and its own database."""

import socket
from urllib.parse import urlparse

import psycopg


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_create(database_url: str) -> None:
    """Create the database named in `database_url` unless it exists (connects to `postgres`)."""
    url = urlparse(database_url)
    name = url.path.lstrip("/")
    admin_url = url._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')  # the name comes from our own setting
