"""Generates the typed Python and TypeScript layers of both implementations from one OpenAPI document."""

__version__ = "0.2.0"
