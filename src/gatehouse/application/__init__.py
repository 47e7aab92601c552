"""The application: ports and one use case per module, over the domain."""
