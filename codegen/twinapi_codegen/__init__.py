"""Generates the typed Python and TypeScript layers of both implementations from one OpenAPI document."""

__version__ = "0.1.0"
