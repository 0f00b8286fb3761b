"""Bounds on what reaches the HTML parser, where no time limit can reach.

libxml2 checks each attribute of an element against all the ones before it: 80,000 attributes
on one element take 8 s, 300,000 over two minutes, and an alarm cannot interrupt C code. No
page needs more than a few dozen attributes on an element, so those past MAX_ATTRIBUTES are
dropped before parsing.

The scan tokenises the page as libxml2's HTML5 tokenizer does, as far as telling markup from
text goes: attribute values in quotes (which may hold "<" and ">"), comments, bogus comments
(`<!...>`, `<?...>`), raw text (script with its escaped states, style, title, textarea, xmp,
iframe, noembed, noframes) and plaintext. tests/test_hostile.py checks it against libxml2 on
generated pages. It is one regular expression with possessive quantifiers only, so it is
linear, and it runs in C: about a millisecond for a 100 KB page. It stops only at a start tag
with too many attributes.
"""
from __future__ import annotations

import re

MAX_ATTRIBUTES = 1000

_WS = r"[\t\n\f\r ]"
_NAME = r"[^\t\n\f\r />][^\t\n\f\r />=]*+"
_VALUE = r"""(?>"[^"]*+"?|'[^']*+'?|[^\t\n\f\r >]*+)"""
_ATTR = rf"(?>[\t\n\f\r /]*+{_NAME}(?>{_WS}*+={_WS}*+{_VALUE})?+)"
_TAG_NAME = r"[A-Za-z][^\t\n\f\r />]*+"
_END = r"[\t\n\f\r /]*+(?:>|\Z)"
_FEW = rf"{_ATTR}{{0,{MAX_ATTRIBUTES}}}+{_END}"  # the rest of a start tag, if not crowded
# The same, for a tag that opens raw text: not one that ends with "/>" (self-closing: libxml2
# reads what follows as markup), whereas "<script/ >" and "<script a=b/>" do open it.
_FEW_OPENING = (rf"{_ATTR}{{0,{MAX_ATTRIBUTES}}}+"
                r"(?:(?>[\t\n\f\r /]*[\t\n\f\r ])?>|[\t\n\f\r /]*+\Z)")
_RAW_NAMES = ("style", "title", "textarea", "xmp", "iframe", "noembed", "noframes")


def _ci(name: str) -> str:
    return f"(?i:{name})"


def _raw_content(name: str) -> str:
    """Raw text (and RCDATA): up to `</name` followed by white space, / or >."""
    return rf"(?>[^<]++|<(?!/{_ci(name)}[\t\n\f\r />]))*+"


_S, _NOT_END = _ci("script"), rf"(?!/{_ci('script')}[\t\n\f\r />])"
_DOUBLE = rf"(?>[^<-]++|-(?!->)|<{_NOT_END})*+(?:</{_S}(?=[\t\n\f\r />]))?+"
_ESCAPED = (rf"<!(?=--)(?>[^<-]++|-(?!->)|<(?!/{_S}[\t\n\f\r />]|{_S}[\t\n\f\r />])"
            rf"|<{_S}(?=[\t\n\f\r />]){_DOUBLE})*+(?:-->)?+")
_SCRIPT_CONTENT = rf"(?>[^<]++|<(?!/{_S}[\t\n\f\r />]|!--)|{_ESCAPED})*+"
_CONTENT = {"script": _SCRIPT_CONTENT, "plaintext": r"[\s\S]*+",
            **{name: _raw_content(name) for name in _RAW_NAMES}}

# Everything up to the first start tag with more than MAX_ATTRIBUTES attributes.
_ORDINARY = re.compile(
    r"(?>[^<]++"
    r"|<!--(?>-?>|(?>[^-]++|-(?!-!?>))*+(?:--!?>|\Z))"  # comments, <!--> and <!---> too
    r"|<(?:!|\?|/(?![A-Za-z]))[^>]*+>?"  # bogus comments: up to the first >
    rf"|</{_TAG_NAME}{_ATTR}*+{_END}"  # end tags (their attributes are read, not kept)
    + "".join(rf"|<{_ci(name)}(?=[\t\n\f\r />]){_FEW_OPENING}{content}"
              for name, content in _CONTENT.items())
    + rf"|<{_TAG_NAME}{_FEW}"
    r"|<(?![A-Za-z!?/]))*+")
# That tag: its first MAX_ATTRIBUTES attributes, the others, its end.
_CROWDED = re.compile(
    rf"(<(?P<name>{_TAG_NAME}){_ATTR}{{{MAX_ATTRIBUTES}}})({_ATTR}*+)({_END})")
_AFTER = {name: re.compile(content) for name, content in _CONTENT.items()}


def bound_attributes(text: str) -> str:
    """`text` with every start tag's attributes past MAX_ATTRIBUTES removed (the same string
    object when there is nothing to remove)."""
    pieces: list[str] = []
    at = 0
    while True:
        stop = _ORDINARY.match(text, at).end()
        if stop >= len(text):
            break
        crowded = _CROWDED.match(text, stop)
        if crowded is None:  # cannot happen: the scan stops only at such a tag
            break
        pieces += [text[at:stop], crowded.group(1), crowded.group(4)]
        at = crowded.end()
        content = _AFTER.get(crowded.group("name").lower())
        if content is not None and not crowded.group(4).endswith("/>"):  # raw text follows
            end = content.match(text, at).end()
            pieces.append(text[at:end])
            at = end
    if not pieces:
        return text
    pieces.append(text[at:])
    return "".join(pieces)
