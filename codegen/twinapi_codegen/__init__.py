"""Generates the typed Python and TypeScript layers of both implementations from one OpenAPI document."""
