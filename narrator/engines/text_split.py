"""Split one utterance into requests that fit a character limit, at clause boundaries.

Online engines take a bounded amount of text per request (gTTS: 100 characters). Where a cut
falls is audible: each request is spoken with its own intonation and ends with a falling tone,
so a cut inside a clause sounds like a full stop in the middle of a phrase. We therefore cut
at the strongest boundary available (sentence end, then ; and :, then dashes, brackets and
quotes, then commas), between words only when one clause alone is over the limit, and inside a
word only for a "word" longer than the limit (a URL). A small dynamic programme chooses the
cuts: fewest requests first, then strongest boundaries, then even lengths.

Pieces that hold no letter or digit (a lone ")" or "—") are never sent on their own: they are
glued to a neighbour.
"""
from __future__ import annotations

import re

# Boundary strength: the cost of ending a request there (0 = end of the text).
_SENTENCE, _CLAUSE, _PHRASE, _COMMA, _WORD, _HARD = 1, 2, 3, 4, 1000, 10000
# One more request costs more than a weaker clause boundary, and twenty of them less than one
# cut mid-clause.
_PER_REQUEST = 50
_SHORT = 12                 # requests shorter than this sound choppy
_SHORT_PENALTY = 3

_SPEAKABLE = re.compile(r"\w")
_CLINGS_LEFT = set(":;!?»)]…,.%”’")
_CLINGS_RIGHT = set("«([“‘")
# A cut inside a clause is best in its middle: "la vie | quotidienne." is worse than
# "les avis | de tous sur ... quotidienne.". Weight of the unevenness of such requests.
_UNEVEN = 20

# (regex whose match END is a cut position, strength). Each needs whitespace after the
# punctuation, so "3,5", "10:30", "U.S." and "Jean-Pierre" are never cut.
_BOUNDARIES: list[tuple[re.Pattern, int]] = [
    # ., !, ?, … ending a sentence, not after a single capital ("M. Dupont", "J. R. R.").
    (re.compile(r"(?<!\b[A-Z])[.!?…]+[\"'»”’)\]]*(?=\s)"), _SENTENCE),
    (re.compile(r"[;:](?=\s)"), _CLAUSE),
    # Dashes used as punctuation (spaced), closing brackets and quotes.
    (re.compile(r"(?<=\s)[—–-](?=\s)"), _PHRASE),
    (re.compile(r"[)\]»”](?=\s)"), _PHRASE),
    (re.compile(r",(?=\s)"), _COMMA),
]
# Cuts *before* an opening bracket or quote: the match START is the cut position.
_OPENING = re.compile(r"(?<=\s)[(\[«“]")


def speakable(text: str) -> bool:
    """True when `text` holds at least one letter or digit (something to say)."""
    return bool(_SPEAKABLE.search(text))


def _cut_points(text: str) -> dict[int, int]:
    """Cut positions (index into `text`) mapped to their strength (lowest wins)."""
    cuts: dict[int, int] = {}

    def add(pos: int, strength: int) -> None:
        if 0 < pos < len(text):
            cuts[pos] = min(strength, cuts.get(pos, strength))

    for pattern, strength in _BOUNDARIES:
        for m in pattern.finditer(text):
            add(m.end(), strength)
    for m in _OPENING.finditer(text):
        add(m.start(), _PHRASE)
    for m in re.finditer(r"\s+", text):
        # Not between a word and the punctuation that belongs to it, as French spaces it
        # ("prenantes :", "« revenir »"): no request may start with ":" or end with "«".
        before, after = text[m.start() - 1:m.start()], text[m.end():m.end() + 1]
        if after and after in _CLINGS_LEFT or before and before in _CLINGS_RIGHT:
            continue
        add(m.start(), _WORD)
    return cuts


def split_text(text: str, limit: int = 100) -> list[str]:
    """The requests for `text`: each at most `limit` characters and speakable, in order.

    Returns [] when nothing in `text` can be spoken (only punctuation or whitespace).
    """
    if limit < 2:
        raise ValueError("limit must be at least 2 characters")
    text = " ".join(text.split())
    if not speakable(text):
        return []
    if len(text) <= limit:
        return [text]

    cuts = _cut_points(text)
    # Hard cuts every `limit` characters inside over-long words, so a solution always exists.
    for m in re.finditer(r"\S{%d,}" % (limit + 1), text):
        for pos in range(m.start() + limit, m.end(), limit):
            cuts.setdefault(pos, _HARD)
    positions = [0] + sorted(cuts) + [len(text)]
    strength = {**cuts, len(text): 0}

    inf = float("inf")
    best: list[float] = [inf] * len(positions)
    back: list[int] = [-1] * len(positions)
    best[0] = 0.0
    for i in range(1, len(positions)):
        end = positions[i]
        for j in range(i - 1, -1, -1):
            start = positions[j]
            if end - start > limit + 1:        # +1: the chunk is stripped of one space
                break
            if best[j] == inf:
                continue
            chunk = text[start:end].strip()
            if len(chunk) > limit or not chunk or not speakable(chunk):
                continue
            cost = best[j] + _PER_REQUEST + strength[end]
            if len(chunk) < _SHORT:
                cost += _SHORT_PENALTY
            if strength[end] >= _WORD or strength.get(start, 0) >= _WORD:
                cost += _UNEVEN * ((limit - len(chunk)) / limit) ** 2
            if cost < best[i]:
                best[i], back[i] = cost, j
    if best[-1] == inf:  # pragma: no cover - the hard cuts make this unreachable
        raise ValueError(f"cannot split text under {limit} characters")
    chunks: list[str] = []
    i = len(positions) - 1
    while i > 0:
        j = back[i]
        chunks.append(text[positions[j]:positions[i]].strip())
        i = j
    return chunks[::-1]


_ENDS_CLAUSE = re.compile(r"[.!?…;:,—–\-)\]»”\"'’]$")
_STARTS_OPENING = re.compile(r"^[(\[«“]")


def cut_at_boundary(chunk: str, following: str | None) -> bool:
    """True when the cut after `chunk` (before `following`, None at the end) is between
    clauses: `chunk` ends with clause punctuation or `following` opens a bracket or quote."""
    if following is None:
        return True
    return bool(_ENDS_CLAUSE.search(chunk) or _STARTS_OPENING.search(following))


def clause_boundaries(text: str) -> set[int]:
    """Positions in whitespace-collapsed `text` where a request may end between clauses."""
    return {pos for pos, strength in _cut_points(text).items() if strength < _WORD}


def avoidable_mid_clause_cuts(text: str, chunks: list[str], limit: int = 100) -> list[str]:
    """The cuts between `chunks` (the requests for `text`) that fall inside a clause which
    would have fit in one request: an empty list when every cut is at a clause boundary or
    unavoidable (inside a clause longer than `limit`). Each cut is shown as "before | after"."""
    text = " ".join(text.split())
    if " ".join(chunks) != text:
        raise ValueError("the chunks do not spell the text")
    bounds = _usable(text, sorted(clause_boundaries(text) | {0, len(text)}))
    found, start = [], 0
    for chunk, following in zip(chunks, chunks[1:]):
        end, start = start + len(chunk), start + len(chunk) + 1
        if end in bounds or start in bounds:
            continue
        left = max(b for b in bounds if b <= end)
        right = min(b for b in bounds if b >= start)
        if len(text[left:right].strip()) <= limit:
            found.append(f"{chunk[-30:]} | {following[:30]}")
    return found


def _usable(text: str, bounds: list[int]) -> list[int]:
    """Clause boundaries a request may really end at: not one that would leave a piece with
    nothing to say ("… 0 (" cannot end before "(", which is never sent alone)."""
    bounds = list(bounds)
    i = 1
    while i < len(bounds):
        if speakable(text[bounds[i - 1]:bounds[i]]):
            i += 1
        elif i < len(bounds) - 1:
            del bounds[i]      # glue the piece to the one after it
        elif len(bounds) > 2:
            del bounds[i - 1]  # the last piece: glue it to the one before it
            i -= 1
        else:
            break
    return bounds
