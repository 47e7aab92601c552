"""The CLI driver: the admin's chores over the same container and use cases as the API."""
