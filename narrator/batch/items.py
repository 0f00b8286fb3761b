"""What a batch source yields: an `Item` (where an article was found, and how to load it) and
what loading gives, `Loaded` (the page's bytes and what the server said about them)."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Loaded:
    html: bytes
    url: str | None
    content_type: str | None
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False  # a conditional GET answered 304: the catalog's copy holds
    fetched_at: float = field(default_factory=time.time)


@dataclass(frozen=True)
class Item:
    key: str
    url: str | None
    load: Callable[..., Loaded]  # load(validators=None); validators: etag, last_modified
    lastmod: str | None = None  # from the sitemap (<lastmod>) or Atom feed (<updated>)


def is_url(text: str) -> bool:
    return urlsplit(text).scheme in ("http", "https")
