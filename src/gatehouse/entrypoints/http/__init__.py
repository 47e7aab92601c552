"""The HTTP driver: Litestar routes over the use cases."""
