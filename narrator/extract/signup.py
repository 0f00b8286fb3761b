"""Sign-up boxes: a newsletter or alert prompt set inside the article ("Get the morning
briefing: the day's stories in your inbox" and an e-mail field). Rules catch the ones whose
class names them (newsletter, subscribe); many are named otherwise ("inline-signup",
"nl-module", a hashed class). What every one of them holds is a field for an e-mail address:
the box is the largest element around that field with little text and prose of its own. The field
says it in its markup, in any language: type=email, or an e-mail name, id or autocomplete."""
from __future__ import annotations

BOX_CHARS = 500  # a sign-up box says a line or two; more text around the field is the page's
BOX_PROSE = 150  # ... and at most a sentence of prose (an article's paragraph is more)


def email_field(el) -> bool:
    """True for an <input> that asks for an e-mail address."""
    kind = (el.get("type") or "text").lower()
    if kind == "email":
        return True
    if kind != "text":
        return False
    return any("mail" in (el.get(a) or "").lower() for a in ("name", "id", "autocomplete"))


def signup_box(holder, weight: dict):
    """The largest element around an e-mail field (`holder`: the field's parent, the field
    itself is gone with the other controls) with at most BOX_CHARS of text and BOX_PROSE of
    prose (`weight`: maintext's prose characters per element), or None. The prose bound stops
    the climb at the article's own paragraphs: a short article whose one paragraph shares a
    block with the box is not a box."""
    box = None
    el = holder
    while el is not None and el.tag not in ("body", "html", "main", "article"):
        if weight.get(el, 0) > BOX_PROSE or len(el.text_content()) > BOX_CHARS:
            break
        box = el
        el = el.getparent()
    return box
