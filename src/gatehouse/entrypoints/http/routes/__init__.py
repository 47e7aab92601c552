"""The API's routes, one module per resource; `app.py` mounts them under `/api/v1` and `/api/v2`."""
