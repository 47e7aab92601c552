"""One use case per module; each owns its transaction."""
