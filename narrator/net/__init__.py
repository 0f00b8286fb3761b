"""Network access shared by the faces: the fetch guard (guard.py)."""
