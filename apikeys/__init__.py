"""API keys with scopes: who may call which endpoint (../shared/docs/API.md, "Authentication")."""
