"""Drivers (HTTP, CLI), settings and the composition root."""
