"""Conduit's tables, one module per kind of row. Every function takes the Queries of a transaction that
`Database.read` or `Database.write` opened, so a handler's queries commit together."""
