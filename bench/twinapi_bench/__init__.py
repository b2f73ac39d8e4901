"""Head-to-head benchmark of both implementations."""
