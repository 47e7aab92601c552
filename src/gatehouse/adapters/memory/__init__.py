"""In-memory twins of the ports, for unit tests and scripts that need no database."""
