"""App config for the demo data, the one app that may depend on every other."""

from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "demo"
