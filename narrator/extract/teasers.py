"""Teaser cards inside the article: another story of the site, its title as a link and a line
of its excerpt ("Read also" boxes, "More from" lists between or after the paragraphs). The
main-content detector keeps the excerpt, a paragraph like any other, and drops the linked
title; the listener then hears a sentence of another story in the middle of this one.

A card is the smallest element around a link to another page of the same site whose text
starts with the link (three words or more, a block of its own, not the start of a sentence)
and goes on with a short excerpt. No class name nor language plays a part."""
from __future__ import annotations

from urllib.parse import urlsplit

from .blocks import HEADINGS
from .dom import Log, remove, text_of
from .guard import guard

CARD_CHARS = 400      # title and excerpt: more than this is a section of the article
TITLE_WORDS = 3       # a title, not a name or a "more" link
EXCERPT_CHARS = 40    # what follows the title: a line of excerpt at least


def site_host(*urls: str | None) -> str | None:
    for url in urls:
        host = urlsplit(url).hostname if url else None
        if host:
            return host.removeprefix("www.")
    return None


def _internal(href: str | None, host: str | None) -> bool:
    """A link to another page of the same site (a relative one, or one to the page's host)."""
    if not href or href.startswith(("#", "javascript:", "mailto:", "tel:")):
        return False
    parts = urlsplit(href.strip())
    if not parts.netloc:
        return not parts.scheme and not href.startswith("#")
    other = (parts.hostname or "").removeprefix("www.")
    return host is not None and (other == host or other.endswith("." + host) or host.endswith("." + other))


LIST_ITEMS = 3        # a list of teasers: this many items at least ...
LIST_LINK_SHARE = 0.2  # ... each linking to a page of the site with this share of its text


def teaser_list(items, host: str | None) -> bool:
    """True for list items that each link to another page of the site, the link a good part of
    the item ("Paid political ads are not the problem. <a>Our perceptions are</a>"): the
    "more stories" list after an article, which is not all links (links_list)."""
    if len(items) < LIST_ITEMS:
        return False
    for li in items:
        links = [a for a in li.iter("a") if _internal(a.get("href"), host)]
        text = len(text_of(li))
        if not links or sum(len(text_of(a)) for a in links) < LIST_LINK_SHARE * text:
            return False
    return True


def teaser_cards(container, host: str | None) -> list:
    """The teaser cards under `container` (the main text's container), outermost first."""
    cards: list = []
    for a in container.iter("a"):
        if not _internal(a.get("href"), host):
            continue
        title = text_of(a)
        if len(title.split()) < TITLE_WORDS:
            continue
        block = a  # the title block: the link and the wrappers that hold nothing else
        while block.getparent() is not None and block.getparent() is not container \
                and text_of(block.getparent()) == title:
            block = block.getparent()
        card = block.getparent()
        if card is None or card is container or card.tag == "p" or (block.tail or "").strip() \
                or (card.text or "").strip():
            continue  # the link opens a sentence, or the card starts with other text
        if any(text_of(s) for s in block.itersiblings(preceding=True) if isinstance(s.tag, str)):
            continue
        size = len(text_of(card))
        if size > CARD_CHARS or size - len(title) < EXCERPT_CHARS:
            continue
        if not any(c is card or any(x is c for x in card.iterancestors()) for c in cards):
            cards.append(card)
    return cards


def drop_teasers(main, host: str | None, log: Log) -> None:
    """Teaser cards inside the article (teasers.py) whose excerpt counts as main text go, each
    answering to the guard; so does the box they leave with nothing but its heading."""
    if not main.reliable:
        return
    for card in teaser_cards(main.container, host):
        taken = main.taken(card)
        if not taken:
            continue  # no prose of its own: the main-content detector leaves it out
        why = guard(card, None, main, broad=True)
        if why:
            log.spare(card, f"{why}; kept against the teaser card heuristic", taken)
            continue
        box = card.getparent()
        log.element(card, "heuristic: teaser card (another story's linked title and excerpt)", taken)
        remove(card)
        while box is not None and box is not main.container and not main.holds(box) \
                and text_of(box) == " ".join(text_of(h) for h in box.iter(*HEADINGS)):
            up = box.getparent()
            log.element(box, "heuristic: what a teaser card left (a box's heading)", main.taken(box))
            remove(box)
            box = up
