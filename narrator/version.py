"""narrator's version: one place, read by the package, the modules that record it (feeds,
settings hashes, the user agent) and pyproject.toml. A module of its own so that those modules
need not import the package's public API (which imports them)."""
__version__ = "0.1.0"
