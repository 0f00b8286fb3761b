"""`narrator serve`: the narration service and the web player (see app.py)."""
from .app import create_app

__all__ = ["create_app"]
