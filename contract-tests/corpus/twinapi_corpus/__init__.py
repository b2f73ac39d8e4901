"""The kit's corpus check: new-project, type-check, boot and probe both servers for every spec of a public corpus."""
