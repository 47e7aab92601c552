"""The shapes at the HTTP edge: request and response Structs (msgspec), one module per resource.

The probes' shapes are also named here, where `health.py` imports them from.
"""

from gatehouse.entrypoints.http.schemas.health import HealthOut, ReadinessOut

__all__ = ["HealthOut", "ReadinessOut"]
