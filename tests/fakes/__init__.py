"""Local stand-ins for the services a test would otherwise need (a model provider's API)."""
