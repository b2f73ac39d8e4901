"""Settings, storage and credentials: what the handlers stand on."""
