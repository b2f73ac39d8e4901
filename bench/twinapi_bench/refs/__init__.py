"""Bare reference routes of the Python frameworks: each answers GET /health with the implementations' health body."""

BODY = {"status": "ok", "implementation": "python", "version": "1.0.0"}
