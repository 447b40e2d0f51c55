"""A model of the HTML tree builder's costly state, run over a text in linear time: how deep
the tree gets, how many formatting elements are rebuilt, how many options a ``<select>``
compares, how many attributes a tag has — without building the tree
(:mod:`probes.fetch.bounds` sets the limits and says what they protect)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from probes.fetch.html_elements import (
    ATTR_NAME,
    BOUNDS,
    BREAKOUT,
    CELLS,
    CLOSES_P,
    COUNTED,
    END_BOUNDS,
    FONT_ATTR,
    FOREIGN,
    FORMATTING,
    GONE,
    HEADINGS,
    IGNORED,
    KEYS,
    MARK,
    MARKERS,
    MATH_HTML,
    MATHML,
    PLAIN,
    RAW,
    RAW_END,
    REACH,
    SVG,
    SVG_HTML,
    TABLE_ONLY,
    TABLE_PARTS,
    TOKEN,
    VOID,
    WS,
    comment_end,
    keys,
)


@dataclass(frozen=True)
class Limits:
    depth: int
    rebuilt: int
    select_work: int
    many_attributes: int
    attribute_work: int


class Exceeded(Exception):
    """A limit was passed: ``what`` is depth, rebuilt, options or attributes."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


# an active formatting element: [key, name, on the stack, dead, position on the stack]
Entry = list


class Model:
    """The tree builder's costly state, kept just well enough to bound it: the stack of
    open elements with, for each name and each boundary, where the topmost one is (so every
    look down the stack is one comparison), and the list of active formatting elements.
    The common tokens take a short path in :meth:`_pass`."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.names: list[str] = []  # the stack of open elements ("" for one taken out)
        self.slots: list[object] = []  # per element: its Entry or a sentinel
        self.where: dict[str, list[int]] = {}  # name -> its positions on the stack
        self.tops: dict[str, list[int]] = {k: [] for k in BOUNDS}
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
        except Exceeded as e:
            return e.what
        return ""

    def _pass(self, text: str, at: int) -> int:
        """Read tokens from ``at`` until one whose content is skipped; where to go on."""
        names, slots, where, tops = self.names, self.slots, self.where, self.tops
        for m in TOKEN.finditer(text, at):
            i = m.start()
            if i > at and self.active and self._needs_rebuild() and text[at:i].strip(WS):
                self._rebuild()
            comment, slash, name, attrs, closed = m.groups()
            if name is None:
                return self._skip(text, m, comment)
            at = m.end()
            name = name.lower()
            if slash:
                slot = slots[-1] if names and names[-1] == name else GONE
                if slot is None:
                    names.pop()  # closes the current element (nothing counted in its slot)
                    slots.pop()
                    where[name].pop()
                    for k in KEYS.get(name, ()):
                        tops[k].pop()  # (an SVG or MathML element is never in a None slot)
                elif slot is not GONE and self.active and slot is self.active[-1]:
                    self._closes_last(slot)  # type: ignore[arg-type]
                else:
                    self._end(name)
                continue
            if len(attrs) > 4 * self.limits.many_attributes:
                self._count_attributes(attrs)
            if name in PLAIN and not self._foreign() and not self._needs_rebuild():
                if len(names) >= self.limits.depth:
                    raise Exceeded("depth")
                here = where.get(name)
                if here is None:
                    here = where[name] = []
                here.append(len(names))
                names.append(name)
                slots.append(None)
                continue
            self._start(name, attrs, bool(closed))
            if name in RAW and slots and slots[-1] is None and names[-1] == name:
                found = RAW_END[name].search(text, at)
                return len(text) if found is None else found.start()
            if name == "plaintext":
                return len(text)
        return len(text)

    def _closes_last(self, entry: Entry) -> None:
        """The end tag of the current element, the last entry of the formatting list: when
        live and outside a ``<select>``, :meth:`_adopt` finds it first and only closes it."""
        if entry[3] or self.selects:
            self._end(entry[1])
            return
        self._kill(entry)
        self.where[self.names.pop()].pop()  # (a formatting element is no boundary)
        self.slots.pop()
        entry[2] = False

    def _skip(self, text: str, m: re.Match[str], comment: str | None) -> int:
        """Past a comment, or a bogus one (<!x, <?x, </x) up to ">" (CDATA in SVG to "]]>")."""
        if comment:
            return comment_end(text, m.end())
        end = text.find(">", m.end())
        if self._foreign() and text.startswith("<![CDATA[", m.start()):
            end = text.find("]]>", m.start()) + 2
        return len(text) if end < 0 else end + 1

    def _count_attributes(self, attrs: str) -> None:
        count = len(ATTR_NAME.findall(attrs))
        if count > self.limits.many_attributes:
            self.attribute_work += count * count
            if self.attribute_work > self.limits.attribute_work:
                raise Exceeded("attributes")

    # -- start and end tags ----------------------------------------------------------------------

    def _start(self, name: str, attrs: str, closed: bool) -> None:
        if name in IGNORED:
            return
        if self._foreign() and self._start_foreign(name, attrs, closed):
            return
        if self.selects and name == "select":
            self._pop_to(self._select())  # the open <select> ends here
            return
        if name in FORMATTING:
            if name == "a" or name == "nobr":
                self._adopt(name, start=True)
            self._rebuild()
            self._remember(f"{name} {attrs}", name)
            return
        if name in VOID:
            if name == "hr" and not self.selects:
                self._close_p()
            elif name != "hr":
                self._rebuild()
            return
        if self._close_for(name):
            self._open(name, closed)

    def _start_foreign(self, name: str, attrs: str, closed: bool) -> bool:
        """A start tag in SVG or MathML: True if it stays there; otherwise the foreign
        elements are closed and it is read as HTML (False)."""
        if name not in BREAKOUT and not (name == "font" and FONT_ATTR.search(attrs)):
            if not closed:  # self-closing is a thing in SVG and MathML only
                self._push(name, self.slots[-1])  # in the namespace of its parent
            return True
        while self._foreign():  # back to HTML, and read there
            self._pop_to(len(self.names) - 1)
        return False

    def _close_for(self, name: str) -> bool:
        """Close what a new element ends; False if the tag is ignored where it stands."""
        if self.selects:  # in a <select> nothing closes what is open but options
            if name == "option" or name == "optgroup":
                self._option(name)
            else:
                self._rebuild()
        elif name in CLOSES_P:
            return self._close_for_block(name)
        elif name == "option" or name == "optgroup":
            self._option(name)
        elif name in CELLS or name in TABLE_ONLY:
            if not self.where.get("table"):
                return False  # outside a table the tag is ignored
            self._table_part(name)
        elif name == "table":  # (a <p> stays open: pages without a doctype are "quirks")
            self._pop_to(self._reach_one("table", "in table"))  # ends the open one
        else:
            self._rebuild()
        return True

    def _close_for_block(self, name: str) -> bool:
        """A block that closes an open ``<p>`` (and a list item, a heading before it)."""
        if name == "form" and self.where.get("form") and not self.where.get("template"):
            return False  # a form in a form is ignored
        if name == "li":
            self._pop_to(self._reach_one("li", "li"))
        elif name == "dd" or name == "dt":
            self._pop_to(self._reach(("dd", "dt"), "dd"))
        self._close_p()
        if name in HEADINGS and self.names and self.names[-1] in HEADINGS:
            self._pop_to(len(self.names) - 1)
        return True

    def _open(self, name: str, closed: bool) -> None:
        """Push the new element, with what its kind keeps in its slot."""
        if name in FOREIGN:
            if not closed:
                self._push(name, SVG if name == "svg" else MATHML)
        elif name == "select":
            self.options = 0
            self.selects += 1
            self._push(name, COUNTED)
        elif name in MARKERS:
            self._push(name, MARK)
            self.active.append(None)
        else:
            self._push(name)

    def _end(self, name: str) -> None:
        if name in IGNORED or name == "br":
            return
        if self._foreign() and self._end_foreign(name):
            return
        if self.selects:  # in a <select> only these end tags count
            self._end_in_select(name)
            return
        if (name in CELLS or name in TABLE_ONLY) and not self.where.get("table"):
            return  # outside a table the tag is ignored
        if name in FORMATTING and self._adopt(name, start=False):
            return
        self._end_html(name)

    def _end_html(self, name: str) -> None:
        """Close the element an end tag names, within its reach."""
        if name == "form":
            if (form := self._reach_one("form", "scope")) == len(self.names) - 1:
                self._pop_to(form)
            elif form >= 0:
                self._take_out(form)
        elif name in HEADINGS:
            self._pop_to(self._reach(HEADINGS, "scope"))
        else:
            self._pop_to(self._reach_one(name, END_BOUNDS.get(name, "special")))

    def _end_in_select(self, name: str) -> None:
        if name == "select":
            self._pop_to(self._select())
        elif name == "option" or name == "optgroup":  # only the current ones
            names = self.names
            if name == "optgroup" and names[-2:] == ["optgroup", "option"]:
                self._pop_to(len(names) - 2)
            elif names and names[-1] == name:
                self._pop_to(len(names) - 1)

    def _end_foreign(self, name: str) -> bool:
        """An end tag in SVG or MathML closes the nearest foreign element of its name (looked
        for within reach, not past an HTML element); False: read it as HTML (``</p>`` and
        ``</br>`` first close all the foreign content)."""
        if name == "p" or name == "br":  # these end SVG and MathML content
            while self._foreign():
                self._pop_to(len(self.names) - 1)
            return False
        names, slots = self.names, self.slots
        for i in range(len(names) - 1, max(-1, len(names) - 1 - REACH), -1):
            if slots[i] is not SVG and slots[i] is not MATHML:
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
            if self.select_work > self.limits.select_work:
                raise Exceeded("options")
        self._rebuild()

    def _table_part(self, name: str) -> None:
        """Close what the new part ends, and open what it implies (a ``<td>`` with no row
        open gets a ``<tr>``, and a ``<tbody>`` when none is open either)."""
        self._pop_to(self._reach(CELLS, "table"))  # an open cell ends
        if name == "caption" or name == "colgroup":  # right in the table
            table = self._reach_one("table", "table end")
            if table >= 0:
                self._pop_to(table + 1)
            return
        parts = self._reach(TABLE_PARTS, "table")
        if name in CELLS:
            tr = self._reach_one("tr", "table")
            if tr >= 0:
                self._pop_to(tr + 1)
                return
            if parts < 0:
                self._push("tbody")
            self._push("tr")
        elif name == "tr":
            self._pop_to(self._reach_one("tr", "table"))
            if parts < 0:
                self._push("tbody")
        else:
            self._pop_to(self._reach_one("tr", "table"))
            self._pop_to(self._reach(TABLE_PARTS, "table"))

    def _close_p(self) -> None:
        self._pop_to(self._reach_one("p", "button"))

    # -- the stack of open elements --------------------------------------------------------------

    def _reach_one(self, name: str, bound: str) -> int:
        """Where the topmost ``name`` is if no boundary of ``bound`` stands above it (an
        element that is a boundary itself is reached); -1 otherwise."""
        w = self.where.get(name)
        if not w or not bound:
            return w[-1] if w else -1
        top, tops = w[-1], self.tops[bound]
        return top if not tops or tops[-1] <= top else -1

    def _reach(self, wanted: Iterable[str], bound: str) -> int:
        """:meth:`_reach_one` for the topmost of ``wanted`` (a boundary above the topmost is
        above every other one too)."""
        return max((self._reach_one(k, bound) for k in wanted), default=-1)

    def _foreign(self) -> bool:
        """Is the current element an SVG or MathML one whose content is not HTML?"""
        slots = self.slots
        if not slots:
            return False
        slot = slots[-1]
        if slot is SVG:
            return self.names[-1] not in SVG_HTML
        return slot is MATHML and self.names[-1] not in MATH_HTML

    def _push(self, name: str, slot: object = None) -> None:
        i = len(self.names)
        if i >= self.limits.depth:
            raise Exceeded("depth")
        self.names.append(name)
        self.slots.append(slot)
        here = self.where.get(name)
        if here is None:
            here = self.where[name] = []
        here.append(i)
        for k in keys(name, slot):
            self.tops[k].append(i)

    def _pop_to(self, i: int) -> None:
        """Pop the element at position ``i`` and every one above it (none for -1)."""
        if i < 0:
            return
        names, slots, where = self.names, self.slots, self.where
        while len(names) > i:
            name, slot = names.pop(), slots.pop()
            if slot is GONE:
                continue
            where[name].pop()
            for k in keys(name, slot):
                self.tops[k].pop()
            if slot is None or slot is SVG or slot is MATHML:
                continue
            if slot is COUNTED:
                self.selects -= 1
            elif slot is MARK:
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
        for here in (self.where[name], *(self.tops[k] for k in keys(name, self.slots[pos]))):
            for k in range(len(here) - 1, -1, -1):
                if here[k] == pos:
                    del here[k]
                    break
        slot = self.slots[pos]
        if isinstance(slot, list):
            slot[2] = False
        self.names[pos], self.slots[pos] = "", GONE

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
                if self.rebuilt > self.limits.rebuilt:
                    raise Exceeded("rebuilt")
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
