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

import re
from collections.abc import Iterable

from selectolax.lexbor import LexborHTMLParser

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
    return _Model().run(text)


# -- the HTML standard's element categories (https://html.spec.whatwg.org/#parsing) ----------


def _names(words: str) -> frozenset[str]:
    return frozenset(words.split())


_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_VOID = _names(
    "area base basefont bgsound br col embed frame hr image img input keygen link meta param "
    "source track wbr"
)
_IGNORED = frozenset({"html", "head", "body"})
_RAW = _names("script style xmp iframe noembed noframes textarea title")
_FORMATTING = _names("a b big code em font i nobr s small strike strong tt u")
_MARKERS = _names("applet marquee object td th caption template")
_SCOPE = _names("applet caption html table td th marquee object template")
_SPECIAL = (
    _SCOPE
    | _HEADINGS
    | _names(
        "address area article aside base basefont bgsound blockquote body br button center col "
        "colgroup dd details dir div dl dt embed fieldset figcaption figure footer form frame "
        "frameset head header hgroup hr iframe img input keygen li link listing main menu meta "
        "nav noembed noframes noscript ol p param plaintext pre script search section select "
        "source style summary tbody textarea tfoot thead tr track ul wbr xmp"
    )
)
_CLOSES_P = _HEADINGS | _names(
    "address article aside blockquote center details dialog dir div dl fieldset figcaption "
    "figure footer header hgroup main menu nav ol p search section summary ul pre listing "
    "form hr xmp plaintext li dd dt"
)
_TABLE_PARTS = frozenset({"tbody", "thead", "tfoot"})
_CELLS = frozenset({"td", "th"})
_TABLE_ONLY = _TABLE_PARTS | {"tr", "caption", "colgroup"}
_FOREIGN = frozenset({"svg", "math"})
#: Foreign elements whose content is read as HTML again (integration points).
_SVG_HTML = _names("foreignobject desc title")
_MATH_HTML = _names("mi mo mn ms mtext annotation-xml")
#: Start tags that end SVG or MathML content and are read as HTML.
_BREAKOUT = _names(
    "b big blockquote body br center code dd div dl dt em embed h1 h2 h3 h4 h5 h6 head hr i "
    "img li listing menu meta nobr ol p pre ruby s small span strong strike sub sup table tt "
    "u ul var"
)
#: The boundaries a look down the stack stops at (the standard's scopes), by purpose.
_BOUNDS = {
    "scope": _SCOPE,
    "button": _SCOPE | {"button"},
    "list": _SCOPE | {"ol", "ul"},
    "table": frozenset({"table", "template", "html"}),
    "in table": frozenset({"td", "th", "caption", "template", "html"}),
    "special": _SPECIAL,
    "li": _SPECIAL - {"address", "div", "p", "li"},
    "dd": _SPECIAL - {"address", "div", "p", "dd", "dt"},
    "table end": frozenset({"template", "html"}),
}
#: End tags closed when in a scope; any other closes only past no special element.
_END_BOUNDS = {
    "p": "button",
    "li": "list",
    "table": "table end",
    "template": "",
    **dict.fromkeys(("tr", "td", "th", "caption", *_TABLE_PARTS), "table"),
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
_KEYS = {
    name: tuple(k for k, names in _BOUNDS.items() if name in names)
    for name in frozenset().union(*_BOUNDS.values())
}
_INTEGRATION_KEYS = ("scope", "button", "list", "special", "li", "dd")
#: Elements whose start tag only opens them (when nothing waits to be rebuilt): none of the
#: above, and no boundary
_PLAIN = _names(
    "span label abbr cite q sub sup time mark var kbd samp bdi bdo ruby data output legend ins "
    "del dfn"
) - frozenset(_KEYS)
#: How many entries of the formatting list a look goes back. Further, the model assumes
#: nothing is there: it keeps more elements open and rebuilt, never fewer.
REACH = 16

_WS = " \t\n\r\f"
# a tag's attributes as the tokenizer reads them: a quote opens a value only after "=", an
# open quote runs to the end of the text, and "/>" (group 4) only closes outside a value
_ATTRS = (
    r"""(?:[ \t\n\r\f]++|/(?!>)|(?:=|[^ \t\n\r\f/>=])[^ \t\n\r\f/>=]*+"""
    r"""(?:[ \t\n\r\f]*+=[ \t\n\r\f]*+(?:"[^"]*+(?:"|\Z)|'[^']*+(?:'|\Z)|[^ \t\n\r\f>]*+))?+)*+"""
)
_TOKEN = re.compile(rf"<(?:(!--)|(/?)([A-Za-z][^ \t\n\r\f/>]*+)({_ATTRS})(/?)>|[!?/])")
_ATTR_NAME = re.compile(r"""[ \t\n\r\f/"'](?:=|[^ \t\n\r\f/>="'])""")
_FONT_ATTR = re.compile(r"(?:^|[ \t\n\r\f/])(?:color|face|size)[ \t\n\r\f]*(?:=|/|>|$)", re.I)
_RAW_END = {name: re.compile(f"</{name}", re.I) for name in _RAW}
_MARK = object()  # the slot of an element that put a marker in the formatting list
_COUNTED = object()  # the slot of a <select>: counted while open
_SVG = object()  # the slot of an SVG element
_MATHML = object()  # the slot of a MathML element
_GONE = object()  # the slot of an element taken out of the stack, still in the tree

# an active formatting element: [key, name, on the stack, dead, position on the stack]
Entry = list


class _Model:
    """The tree builder's costly state, kept just well enough to bound it: the stack of
    open elements with, for each name and each boundary, where the topmost one is (so every
    look down the stack is one comparison), and the list of active formatting elements.
    The common tokens take a short path in :meth:`_pass`."""

    def __init__(self) -> None:
        self.names: list[str] = []  # the stack of open elements ("" for one taken out)
        self.slots: list[object] = []  # per element: its Entry or a sentinel
        self.where: dict[str, list[int]] = {}  # name -> its positions on the stack
        self.tops: dict[str, list[int]] = {k: [] for k in _BOUNDS}
        self.selects = 0
        self.active: list[Entry | None] = []  # None: a marker; never a dead entry last
        self.dead = 0
        self.rebuilt = 0
        self.options = 0
        self.select_work = 0
        self.attribute_work = 0

    # -- the pass --------------------------------------------------------------------------------

    def run(self, text: str) -> str:
        try:
            at = 0
            while at < len(text):  # a new pass after each comment or raw text skipped
                at = self._pass(text, at)
        except TooComplex as e:
            return e.detail
        return ""

    def _pass(self, text: str, at: int) -> int:
        """Read tokens from ``at`` until one whose content is skipped; where to go on."""
        names, slots, where, tops = self.names, self.slots, self.where, self.tops
        for m in _TOKEN.finditer(text, at):
            i = m.start()
            if i > at and self.active and self._needs_rebuild() and text[at:i].strip(_WS):
                self._rebuild()
            comment, slash, name, attrs, closed = m.groups()
            if name is None:
                return self._skip(text, m, comment)
            at = m.end()
            name = name.lower()
            if slash:
                if names and names[-1] == name and slots[-1] is None:
                    names.pop()  # closes the current element (nothing counted in its slot)
                    slots.pop()
                    where[name].pop()
                    for k in _KEYS.get(name, ()):
                        tops[k].pop()  # (an SVG or MathML element is never in a None slot)
                else:
                    self._end(name)
                continue
            if len(attrs) > 4 * MANY_ATTRIBUTES:
                self._count_attributes(attrs)
            if name in _PLAIN and not self._foreign() and not self._needs_rebuild():
                if len(names) >= MAX_DEPTH:
                    raise TooComplex(TOO_DEEP)
                here = where.get(name)
                if here is None:
                    here = where[name] = []
                here.append(len(names))
                names.append(name)
                slots.append(None)
                continue
            self._start(name, attrs, bool(closed))
            if name in _RAW and slots and slots[-1] is None and names[-1] == name:
                found = _RAW_END[name].search(text, at)
                return len(text) if found is None else found.start()
            if name == "plaintext":
                return len(text)
        return len(text)

    def _skip(self, text: str, m: re.Match[str], comment: str | None) -> int:
        """Past a comment, or a bogus one (<!x, <?x, </x) up to ">" (CDATA in SVG to "]]>")."""
        if comment:
            return _comment_end(text, m.end())
        end = text.find(">", m.end())
        if self._foreign() and text.startswith("<![CDATA[", m.start()):
            end = text.find("]]>", m.start()) + 2
        return len(text) if end < 0 else end + 1

    def _count_attributes(self, attrs: str) -> None:
        count = len(_ATTR_NAME.findall(attrs))
        if count > MANY_ATTRIBUTES:
            self.attribute_work += count * count
            if self.attribute_work > MAX_ATTRIBUTE_WORK:
                raise TooComplex(TOO_MANY_ATTRIBUTES)

    # -- start and end tags ----------------------------------------------------------------------

    def _start(self, name: str, attrs: str, closed: bool) -> None:
        if name in _IGNORED:
            return
        if self._foreign():
            if name not in _BREAKOUT and not (name == "font" and _FONT_ATTR.search(attrs)):
                if not closed:  # self-closing is a thing in SVG and MathML only
                    self._push(name, self.slots[-1])  # in the namespace of its parent
                return
            while self._foreign():  # back to HTML, and read there
                self._pop_to(len(self.names) - 1)
        if self.selects and name == "select":
            self._pop_to(self._select())  # the open <select> ends here
            return
        if name in _FORMATTING:
            if name == "a" or name == "nobr":
                self._adopt(name, start=True)
            self._rebuild()
            self._remember(f"{name} {attrs}", name)
            return
        if name in _VOID:
            if name == "hr" and not self.selects:
                self._close_p()
            elif name != "hr":
                self._rebuild()
            return
        if self.selects:  # in a <select> nothing closes what is open but options
            if name == "option" or name == "optgroup":
                self._option(name)
            else:
                self._rebuild()
        elif name in _CLOSES_P:
            if name == "form" and self.where.get("form") and not self.where.get("template"):
                return  # a form in a form is ignored
            if name == "li":
                self._pop_to(self._reach(("li",), "li"))
            elif name == "dd" or name == "dt":
                self._pop_to(self._reach(("dd", "dt"), "dd"))
            self._close_p()
            if name in _HEADINGS and self.names and self.names[-1] in _HEADINGS:
                self._pop_to(len(self.names) - 1)
        elif name == "option" or name == "optgroup":
            self._option(name)
        elif name in _CELLS or name in _TABLE_ONLY:
            if not self.where.get("table"):
                return  # outside a table the tag is ignored
            self._table_part(name)
        elif name == "table":  # (a <p> stays open: pages without a doctype are "quirks")
            self._pop_to(self._reach(("table",), "in table"))  # ends the open one
        else:
            self._rebuild()
        if name in _FOREIGN:
            if not closed:
                self._push(name, _SVG if name == "svg" else _MATHML)
        elif name == "select":
            self.options = 0
            self.selects += 1
            self._push(name, _COUNTED)
        elif name in _MARKERS:
            self._push(name, _MARK)
            self.active.append(None)
        else:
            self._push(name)

    def _end(self, name: str) -> None:
        if name in _IGNORED or name == "br":
            return
        if self._foreign():
            if name == "p" or name == "br":  # these end SVG and MathML content
                while self._foreign():
                    self._pop_to(len(self.names) - 1)
            elif self._end_foreign(name):
                return
        if self.selects:  # in a <select> only these end tags count
            if name == "select":
                self._pop_to(self._select())
            elif name == "option" or name == "optgroup":  # only the current ones
                names = self.names
                if name == "optgroup" and names[-2:] == ["optgroup", "option"]:
                    self._pop_to(len(names) - 2)
                elif names and names[-1] == name:
                    self._pop_to(len(names) - 1)
            return
        if (name in _CELLS or name in _TABLE_ONLY) and not self.where.get("table"):
            return  # outside a table the tag is ignored
        if name in _FORMATTING and self._adopt(name, start=False):
            return
        if name == "form":
            if (form := self._reach(("form",), "scope")) == len(self.names) - 1:
                self._pop_to(form)
            elif form >= 0:
                self._take_out(form)
        elif name in _HEADINGS:
            self._pop_to(self._reach(_HEADINGS, "scope"))
        else:
            self._pop_to(self._reach((name,), _END_BOUNDS.get(name, "special")))

    def _end_foreign(self, name: str) -> bool:
        """An end tag in SVG or MathML closes the nearest foreign element of its name (looked
        for within reach, not past an HTML element); False: read it as HTML."""
        names, slots = self.names, self.slots
        for i in range(len(names) - 1, max(-1, len(names) - 1 - REACH), -1):
            if slots[i] is not _SVG and slots[i] is not _MATHML:
                return False
            if names[i] == name:
                self._pop_to(i)
                return True
        return False

    def _select(self) -> int:
        """Where the open ``<select>`` is if only options stand above it; -1 otherwise."""
        pos = self.where["select"][-1]
        above = self.names[pos + 1 :]
        return pos if len(above) <= 2 and all(n in ("option", "optgroup") for n in above) else -1

    def _option(self, name: str) -> None:
        names = self.names
        if names and names[-1] == "option":
            self._pop_to(len(names) - 1)
        if name == "optgroup" and names and names[-1] == "optgroup":
            self._pop_to(len(names) - 1)
        if name == "option" and self.selects:
            self.options += 1
            self.select_work += self.options
            if self.select_work > MAX_SELECT_WORK:
                raise TooComplex(TOO_MANY_OPTIONS)
        self._rebuild()

    def _table_part(self, name: str) -> None:
        """Close what the new part ends, and open what it implies (a ``<td>`` with no row
        open gets a ``<tr>``, and a ``<tbody>`` when none is open either)."""
        self._pop_to(self._reach(_CELLS, "table"))  # an open cell ends
        if name == "caption" or name == "colgroup":  # right in the table
            table = self._reach(("table",), "table end")
            if table >= 0:
                self._pop_to(table + 1)
            return
        parts = self._reach(_TABLE_PARTS, "table")
        if name in _CELLS:
            tr = self._reach(("tr",), "table")
            if tr >= 0:
                self._pop_to(tr + 1)
                return
            if parts < 0:
                self._push("tbody")
            self._push("tr")
        elif name == "tr":
            self._pop_to(self._reach(("tr",), "table"))
            if parts < 0:
                self._push("tbody")
        else:
            self._pop_to(self._reach(("tr",), "table"))
            self._pop_to(self._reach(_TABLE_PARTS, "table"))

    def _close_p(self) -> None:
        self._pop_to(self._reach(("p",), "button"))

    # -- the stack of open elements --------------------------------------------------------------

    def _reach(self, wanted: Iterable[str], bound: str) -> int:
        """Where the topmost of ``wanted`` is if no boundary of ``bound`` stands above it
        (an element that is a boundary itself is reached); -1 otherwise."""
        where = self.where
        top = max((w[-1] for k in wanted if (w := where.get(k))), default=-1)
        if top < 0 or not bound:
            return top
        tops = self.tops[bound]
        return top if not tops or tops[-1] <= top else -1

    def _foreign(self) -> bool:
        """Is the current element an SVG or MathML one whose content is not HTML?"""
        slots = self.slots
        if not slots:
            return False
        slot = slots[-1]
        if slot is _SVG:
            return self.names[-1] not in _SVG_HTML
        return slot is _MATHML and self.names[-1] not in _MATH_HTML

    def _push(self, name: str, slot: object = None) -> None:
        i = len(self.names)
        if i >= MAX_DEPTH:
            raise TooComplex(TOO_DEEP)
        self.names.append(name)
        self.slots.append(slot)
        here = self.where.get(name)
        if here is None:
            here = self.where[name] = []
        here.append(i)
        for k in _keys(name, slot):
            self.tops[k].append(i)

    def _pop_to(self, i: int) -> None:
        """Pop the element at position ``i`` and every one above it (none for -1)."""
        if i < 0:
            return
        names, slots, where = self.names, self.slots, self.where
        while len(names) > i:
            name, slot = names.pop(), slots.pop()
            if slot is _GONE:
                continue
            where[name].pop()
            for k in _keys(name, slot):
                self.tops[k].pop()
            if slot is None or slot is _SVG or slot is _MATHML:
                continue
            if slot is _COUNTED:
                self.selects -= 1
            elif slot is _MARK:
                self._clear_to_marker()
            else:
                slot[2] = False  # type: ignore[index]

    # -- the list of active formatting elements --------------------------------------------------

    def _remember(self, key: str, name: str) -> None:
        self._push(name)
        entry: Entry = [key, name, True, False, len(self.names) - 1]
        self.slots[-1] = entry
        active = self.active
        alike = []
        for k in range(len(active) - 1, max(-1, len(active) - 1 - REACH), -1):
            e = active[k]
            if e is None:
                break
            if e[0] == key and not e[3]:
                alike.append(e)
        if len(alike) >= 3:  # the "Noah's Ark" clause: three alike at most
            self._kill(alike[-1])
        self.active.append(entry)

    def _kill(self, entry: Entry) -> None:
        entry[3] = True
        self.dead += 1
        active = self.active
        while active and (tail := active[-1]) is not None and tail[3]:
            active.pop()
            self.dead -= 1
        if self.dead > 64 and self.dead * 2 > len(active):
            active[:] = [e for e in active if e is None or not e[3]]
            self.dead = 0

    def _last(self, name: str) -> Entry | None:
        """The last live entry for ``name`` since the last marker, within reach."""
        active = self.active
        for k in range(len(active) - 1, max(-1, len(active) - 1 - REACH), -1):
            entry = active[k]
            if entry is None:
                return None
            if entry[1] == name and not entry[3]:
                return entry
        return None

    def _adopt(self, name: str, *, start: bool) -> bool:
        """The adoption agency, as far as depth goes; False: treat as any other end tag."""
        entry = self._last(name)
        if entry is None:
            return False
        if not entry[2]:  # closed already: only the list forgets it
            self._kill(entry)
            return True
        pos = entry[4]
        special = self.tops["special"]
        block = bool(special) and special[-1] > pos  # a "furthest block" inside it
        if start:  # <a> in an open <a>: the old one is taken out of the stack
            self._kill(entry)
            if block:
                self._take_out(pos)
            else:
                self._pop_to(pos)
        elif not block:  # (with a block inside, or out of scope, the depth stays)
            self._kill(entry)
            self._pop_to(pos)
        return True

    def _take_out(self, pos: int) -> None:
        """Out of the stack from under the elements above it, which stay open and stay
        inside it in the tree: still counted in the depth, no longer found by name."""
        name = self.names[pos]
        for here in (self.where[name], *(self.tops[k] for k in _keys(name, self.slots[pos]))):
            for k in range(len(here) - 1, -1, -1):
                if here[k] == pos:
                    del here[k]
                    break
        slot = self.slots[pos]
        if isinstance(slot, list):
            slot[2] = False
        self.names[pos], self.slots[pos] = "", _GONE

    def _needs_rebuild(self) -> bool:
        active = self.active
        return bool(active) and (tail := active[-1]) is not None and not tail[2]

    def _rebuild(self) -> None:
        if not self._needs_rebuild():
            return
        active = self.active
        k = len(active) - 1
        while k >= 0 and (e := active[k]) is not None and (e[3] or not e[2]):
            k -= 1
        for e in active[k + 1 :]:
            if e is not None and not e[3]:
                self.rebuilt += 1
                if self.rebuilt > MAX_REBUILT:
                    raise TooComplex(TOO_MANY_REBUILT)
                self._push(e[1], e)
                e[2], e[4] = True, len(self.names) - 1

    def _clear_to_marker(self) -> None:
        active = self.active
        while active:
            entry = active.pop()
            if entry is None:
                break
            if entry[3]:
                self.dead -= 1
        while active and (tail := active[-1]) is not None and tail[3]:
            active.pop()
            self.dead -= 1


def _keys(name: str, slot: object) -> tuple[str, ...]:
    """The boundaries an element is one of: by its name for HTML; for SVG and MathML, the
    integration points are boundaries of every scope, and nothing else is."""
    if slot is _SVG:
        return _INTEGRATION_KEYS if name in _SVG_HTML else ()
    if slot is _MATHML:
        return _INTEGRATION_KEYS if name in _MATH_HTML else ()
    return _KEYS.get(name, ())


def _comment_end(text: str, at: int) -> int:
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
