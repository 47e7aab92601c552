"""Gatehouse: user management behind a versioned REST API, built as a hexagonal service."""
