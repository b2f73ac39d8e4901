"""Conformance harness: fuzz each implementation against the contract, compare them, prove they interoperate."""

__version__ = "0.2.0"
