"""API keys with scopes: who may call which endpoint (API.md, "Authentication")."""
