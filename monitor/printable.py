"""Scraped text made safe to print on a terminal: control characters shown, never obeyed.

A post title can carry escape sequences (``ESC ] 0 ; … BEL`` sets the window title,
``ESC [ 2 J`` clears the screen, ``U+009B`` is the one-byte form of ``ESC [``, ``U+202E``
turns the rest of a line around). Shown as ``\\x1b``, ``\\x9b``, ``\\u202e``, they stay
evidence a duty officer can read; line breaks and tabs are kept.
"""

from __future__ import annotations

import re

#: C0 controls but tab and line feed, DEL, C1 controls, and the bidirectional overrides
CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
#: what JSON leaves as it is (it escapes C0 itself)
_PAST_JSON = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """``text`` with every control character written as its escape (``\\x1b``)."""
    if not CONTROLS.search(text):
        return text
    return CONTROLS.sub(_escape, text)


def _escape(m: re.Match[str]) -> str:
    return repr(m.group())[1:-1]  # \x1b, \r, \x9b, \u202e: as Python writes them


def json_printable(text: str) -> str:
    """JSON text with DEL, C1 and the overrides escaped too (``\\u009b``), so ``--json`` on a
    terminal obeys nothing either; the JSON value is the same."""
    return _PAST_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
