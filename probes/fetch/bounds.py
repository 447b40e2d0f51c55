"""How much work an HTML text may ask of the parser, judged in one linear pass before parsing.

lexbor (through selectolax) builds the tree by the HTML standard's rules, and some of those
rules cost more than the text is long. Measured on selectolax 1.0.2 (``bench/pages.py``):

- a block start tag (``<div>``) looks down the stack of open elements for a ``<p>`` to close,
  so unclosed nesting is quadratic: 20,000 levels 0.5 s, 200,000 levels minutes;
- formatting elements (``<b id=1>``…) that a block's end tag left open are rebuilt before
  the next text, each time: 5,000 of them 19 s (and memory for every copy);
- each ``<option>`` looks at the whole ``<select>``: 10,000 options 0.7–2 s;
- each attribute is compared with the tag's earlier ones: 20,000 on one tag 14 s.

:func:`parse_html` is the one door to the parser for the readers: it runs :func:`judge`, a
small model of the tree builder (stack of open elements with the standard's scopes, the
list of active formatting elements with markers and the three-of-a-kind rule, ``<select>``
and table contexts, raw text such as ``<script>``), and raises :class:`TooComplex` when a
page would nest deeper than :data:`MAX_DEPTH` (what Chromium's parser allows) or ask for
more than the budgets below. The model errs towards counting more, never fewer: pages
people write stay far inside the bounds, a page built to stall the patrol is refused in
time linear in its length. ``probes.platforms.observe`` turns the refusal into
``unreadable`` ("页面结构异常（嵌套过深）"), so the check is told, not hung.
"""

from __future__ import annotations

from selectolax.lexbor import LexborHTMLParser

from probes.fetch.tree_model import Limits, Model

#: Deepest nesting accepted: Blink's HTML parser stops nesting at 512 as well.
MAX_DEPTH = 512
#: Formatting elements rebuilt after their parent closed, over the whole page.
MAX_REBUILT = 200_000
#: Options compared with the earlier options of their ``<select>``, summed.
MAX_SELECT_WORK = 10_000_000
#: A tag with more attributes than this costs the square of their number ...
MANY_ATTRIBUTES = 32
#: ... summed over the page, at most this.
MAX_ATTRIBUTE_WORK = 10_000_000
_SMALL = 6_000  # characters: attributes that fit in it cost less than the budget

TOO_DEEP = "页面结构异常（嵌套过深）"
TOO_MANY_REBUILT = "页面结构异常（未闭合的格式标签反复重建）"
TOO_MANY_OPTIONS = "页面结构异常（下拉选项过多）"
TOO_MANY_ATTRIBUTES = "页面结构异常（标签属性过多）"
_WORDS = {
    "depth": TOO_DEEP,
    "rebuilt": TOO_MANY_REBUILT,
    "options": TOO_MANY_OPTIONS,
    "attributes": TOO_MANY_ATTRIBUTES,
}
_LIMITS = Limits(MAX_DEPTH, MAX_REBUILT, MAX_SELECT_WORK, MANY_ATTRIBUTES, MAX_ATTRIBUTE_WORK)


class TooComplex(ValueError):
    """The text would cost the parser more than the bounds allow; ``detail`` says how."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def parse_html(text: str) -> LexborHTMLParser:
    """The parsed tree of ``text``, or :class:`TooComplex` before any parsing is done."""
    if why := judge(text):
        raise TooComplex(why)
    return LexborHTMLParser(text)


def judge(text: str) -> str:
    """Why parsing ``text`` would cost too much ("" when it would not); linear in its length."""
    if len(text) <= _SMALL and text.count("<") <= MAX_DEPTH:
        return ""  # too few tags and characters to reach any bound
    return _WORDS.get(Model(_LIMITS).run(text), "")
