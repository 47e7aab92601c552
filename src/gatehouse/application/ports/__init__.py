"""Ports: what the use cases need from the world, as Protocols the adapters implement, one
module per concept (import from the module, e.g. `gatehouse.application.ports.users`)."""
