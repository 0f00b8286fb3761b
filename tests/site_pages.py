"""A small publisher site for the registered-site tests: article pages with the player's
auto-mode snippet in their template, and a page without an article."""
from __future__ import annotations

PARAGRAPHS = {
    "one": ["The valley's first cycle lane opened on Monday morning.",
            "Riders queued before dawn to try it.",
            "The council says a second lane will follow next spring."],
    "two": ["The old mill reopened as a library after six years of work.",
            "Its reading room sits where the grinding stones once turned.",
            "Volunteers carried the first thousand books up the stairs by hand.",
            "The library opens every day but Monday."],
    "three": ["A heat wave is expected across the valley this week.",
              "The town has opened three cool rooms for older residents.",
              "Water fountains in the park will run all night."],
    "four": ["The night market returns to the square on Friday.",
             "Forty stalls will sell food from the valley's farms."],
}
TITLES = {"one": "A cycle lane for the valley", "two": "The mill becomes a library",
          "three": "Heat wave: the town opens cool rooms",
          "four": "The night market is back"}


def snippet(server: str) -> str:
    return (f'<link rel="stylesheet" href="{server}/static/player.css">'
            f'<div data-narrator-auto></div>')


def article(server: str, origin: str, slug: str, paragraphs: list[str] | None = None,
            extra: str = "") -> str:
    body = "".join(f"<p>{p}</p>" for p in (paragraphs or PARAGRAPHS[slug]))
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f'<title>{TITLES[slug]} | The Valley Courier</title>'
            f'<link rel="canonical" href="{origin}/articles/{slug}">'
            f'<meta name="description" content="{TITLES[slug]}: the story.">'
            f'<meta property="article:published_time" content="2026-11-2{len(slug)}T08:00:00Z">'
            f'</head><body><header><nav><a href="/">The Valley Courier</a></nav></header>'
            f'<main><article><h1>{TITLES[slug]}</h1>{snippet(server)}{body}</article>{extra}'
            f'</main><footer>The Valley Courier</footer>'
            f'<script src="{server}/static/player.js" defer></script></body></html>')


def no_article(server: str) -> str:
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>About us'
            f'</title></head><body><header><nav><a href="/">Home</a></nav></header><main>'
            f'{snippet(server)}<ul><li><a href="/a">Contact</a></li><li><a href="/b">Jobs</a>'
            f'</li></ul></main><footer>The Valley Courier</footer>'
            f'<script src="{server}/static/player.js" defer></script></body></html>')


def site_pages(server: str, origin: str) -> dict[str, str]:
    pages = {f"/articles/{slug}": article(server, origin, slug) for slug in PARAGRAPHS}
    pages["/about"] = no_article(server)
    return pages
