"""The HTML standard's element categories and tokens, as the tree builder reads them
(https://html.spec.whatwg.org/#parsing): which start tags close a ``<p>``, which elements
bound a look down the stack (the scopes), which are formatting, raw text, void — for the
model of :mod:`probes.fetch.tree_model`."""

from __future__ import annotations

import re


def _names(words: str) -> frozenset[str]:
    return frozenset(words.split())


HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
VOID = _names(
    "area base basefont bgsound br col embed frame hr image img input keygen link meta param "
    "source track wbr"
)
IGNORED = frozenset({"html", "head", "body"})
RAW = _names("script style xmp iframe noembed noframes textarea title")
FORMATTING = _names("a b big code em font i nobr s small strike strong tt u")
MARKERS = _names("applet marquee object td th caption template")
SCOPE = _names("applet caption html table td th marquee object template")
SPECIAL = (
    SCOPE
    | HEADINGS
    | _names(
        "address area article aside base basefont bgsound blockquote body br button center col "
        "colgroup dd details dir div dl dt embed fieldset figcaption figure footer form frame "
        "frameset head header hgroup hr iframe img input keygen li link listing main menu meta "
        "nav noembed noframes noscript ol p param plaintext pre script search section select "
        "source style summary tbody textarea tfoot thead tr track ul wbr xmp"
    )
)
CLOSES_P = HEADINGS | _names(
    "address article aside blockquote center details dialog dir div dl fieldset figcaption "
    "figure footer header hgroup main menu nav ol p search section summary ul pre listing "
    "form hr xmp plaintext li dd dt"
)
TABLE_PARTS = frozenset({"tbody", "thead", "tfoot"})
CELLS = frozenset({"td", "th"})
TABLE_ONLY = TABLE_PARTS | {"tr", "caption", "colgroup"}
FOREIGN = frozenset({"svg", "math"})
#: Foreign elements whose content is read as HTML again (integration points).
SVG_HTML = _names("foreignobject desc title")
MATH_HTML = _names("mi mo mn ms mtext annotation-xml")
#: Start tags that end SVG or MathML content and are read as HTML.
BREAKOUT = _names(
    "b big blockquote body br center code dd div dl dt em embed h1 h2 h3 h4 h5 h6 head hr i "
    "img li listing menu meta nobr ol p pre ruby s small span strong strike sub sup table tt "
    "u ul var"
)
#: The boundaries a look down the stack stops at (the standard's scopes), by purpose.
BOUNDS = {
    "scope": SCOPE,
    "button": SCOPE | {"button"},
    "list": SCOPE | {"ol", "ul"},
    "table": frozenset({"table", "template", "html"}),
    "in table": frozenset({"td", "th", "caption", "template", "html"}),
    "special": SPECIAL,
    "li": SPECIAL - {"address", "div", "p", "li"},
    "dd": SPECIAL - {"address", "div", "p", "dd", "dt"},
    "table end": frozenset({"template", "html"}),
}
#: End tags closed when in a scope; any other closes only past no special element.
END_BOUNDS = {
    "p": "button",
    "li": "list",
    "table": "table end",
    "template": "",
    **dict.fromkeys(("tr", "td", "th", "caption", *TABLE_PARTS), "table"),
    **dict.fromkeys(
        _names(
            "address article aside blockquote button center details dialog dir div dl "
            "fieldset figcaption figure footer header hgroup listing main menu nav ol pre "
            "search section summary ul applet marquee object dd dt"
        ),
        "scope",
    ),
}
#: name -> the boundaries it is one of
KEYS = {
    name: tuple(k for k, names in BOUNDS.items() if name in names)
    for name in frozenset().union(*BOUNDS.values())
}
INTEGRATION_KEYS = ("scope", "button", "list", "special", "li", "dd")
#: Elements whose start tag only opens them (when nothing waits to be rebuilt): none of the
#: above, and no boundary
PLAIN = _names(
    "span label abbr cite q sub sup time mark var kbd samp bdi bdo ruby data output legend ins "
    "del dfn"
) - frozenset(KEYS)
#: How many entries of the formatting list a look goes back. Further, the model assumes
#: nothing is there: it keeps more elements open and rebuilt, never fewer.
REACH = 16

WS = " \t\n\r\f"
# a tag's attributes as the tokenizer reads them: a quote opens a value only after "=", an
# open quote runs to the end of the text, and "/>" (group 4) only closes outside a value
ATTRS = (
    r"""(?:[ \t\n\r\f]++|/(?!>)|(?:=|[^ \t\n\r\f/>=])[^ \t\n\r\f/>=]*+"""
    r"""(?:[ \t\n\r\f]*+=[ \t\n\r\f]*+(?:"[^"]*+(?:"|\Z)|'[^']*+(?:'|\Z)|[^ \t\n\r\f>]*+))?+)*+"""
)
TOKEN = re.compile(rf"<(?:(!--)|(/?)([A-Za-z][^ \t\n\r\f/>]*+)({ATTRS})(/?)>|[!?/])")
ATTR_NAME = re.compile(r"""[ \t\n\r\f/"'](?:=|[^ \t\n\r\f/>="'])""")
FONT_ATTR = re.compile(r"(?:^|[ \t\n\r\f/])(?:color|face|size)[ \t\n\r\f]*(?:=|/|>|$)", re.I)
RAW_END = {name: re.compile(f"</{name}", re.I) for name in RAW}
MARK = object()  # the slot of an element that put a marker in the formatting list
COUNTED = object()  # the slot of a <select>: counted while open
SVG = object()  # the slot of an SVG element
MATHML = object()  # the slot of a MathML element
GONE = object()  # the slot of an element taken out of the stack, still in the tree


def keys(name: str, slot: object) -> tuple[str, ...]:
    """The boundaries an element is one of: by its name for HTML; for SVG and MathML, the
    integration points are boundaries of every scope, and nothing else is."""
    if slot is SVG:
        return INTEGRATION_KEYS if name in SVG_HTML else ()
    if slot is MATHML:
        return INTEGRATION_KEYS if name in MATH_HTML else ()
    return KEYS.get(name, ())


def comment_end(text: str, at: int) -> int:
    """Where a comment opened just before ``at`` ends ("<!-->" and "<!--->" are whole)."""
    if text.startswith(">", at):
        return at + 1
    if text.startswith("->", at):
        return at + 2
    ends = [e for e in (text.find("-->", at), text.find("--!>", at)) if e >= 0]
    if not ends:
        return len(text)
    end = min(ends)
    return end + (3 if text.startswith("-->", end) else 4)
