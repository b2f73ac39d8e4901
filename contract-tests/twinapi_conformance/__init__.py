"""Conformance harness: fuzz each implementation against the contract, compare them, prove they interoperate."""
