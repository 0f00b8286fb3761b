"""narrator: turn published articles into narrated, chaptered audio."""

__version__ = "0.1.0"
