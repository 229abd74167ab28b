"""The API's WSGI application, searching with the query before compounds and demotions."""

from bench.query_before import query_before_install
from config.wsgi import application

query_before_install()

__all__ = ["application"]
