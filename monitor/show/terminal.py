"""How the CLI and the demo print: tables that fit a terminal, every cell in full when stdout
is not one.

On a terminal a listing is a rich table as wide as the terminal (80 columns included): the
columns that matter, ids and times never broken, the problem text wrapped; colours by
severity (单项否决 red bold, 严重 red, 预警 yellow) unless ``NO_COLOR`` is set.

Piped or redirected (``xuncha findings | cut -f1``, ``> file``), a listing is tab-separated
values — a header line, then one line per row, every cell whole: nothing cut, wrapped or
coloured, URLs intact (the convention of ``gh``). Scripts split on tabs; people read it in
an editor or through ``column -t -s $'\\t'``. Text lines are never wrapped either.

Whether stdout is a terminal is rich's answer (``Console.is_terminal``), so ``TTY_COMPATIBLE=1``
or ``FORCE_COLOR=1`` give the terminal layout in a pipe and ``COLUMNS`` sets its width.

Scraped text never drives the terminal: every cell and every line a console prints has its
control characters written out (``monitor.printable``: ``\x1b``, ``\x9b``, ``\u202e``), on a
terminal and in a pipe alike — a post title cannot retitle the window or clear the screen.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from monitor.printable import CONTROLS, printable

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

# severity code -> rich style (monitor.show.labels.SEVERITY names them)
SEVERITY_STYLE = {"veto": "bold red", "high": "red", "warning": "yellow"}
# a terminal listing shows this many rows unless --limit says otherwise: thousands of rows
# scroll past unread (and take rich seconds to lay out); a pipe gets every row
TERMINAL_ROWS = 100


def make_console(*, stderr: bool = False) -> Console:
    """A console on stdout (or stderr): colour and wrapping on a terminal; plain, unwrapped
    lines otherwise. No automatic highlighting: colour is what a command chooses."""
    console = _safe_console()(stderr=stderr, highlight=False)
    console.soft_wrap = not console.is_terminal
    return console


def _safe_console() -> type[Console]:
    """rich's Console, whose every rendered piece of text has its control characters
    written out (rich's own colour codes are not text: they are added after)."""
    from rich.console import Console
    from rich.segment import Segment

    class SafeConsole(Console):
        def render(self, renderable: Any, options: Any = None) -> Iterable[Segment]:
            for seg in super().render(renderable, options):
                if seg.control or not CONTROLS.search(seg.text):
                    yield seg
                else:
                    yield Segment(printable(seg.text), seg.style, seg.control)

    return SafeConsole


def is_terminal(console: Console) -> bool:
    return console.is_terminal


@dataclass(frozen=True)
class Col:
    """A terminal column: ``wrap`` columns (names, problem text) share what the others leave;
    the others (ids, levels, times) are never broken."""

    header: str
    wrap: bool = False
    justify: Literal["left", "right"] = "left"
    min_width: int | None = None
    ratio: int = 1  # a wrapping column's share of the width left over


def terminal_table(
    columns: Sequence[Col], title: str | None = None, *, separate: bool = False
) -> Table:
    """A table as wide as the terminal; ``separate`` puts a blank line between rows (rows of
    several lines read apart)."""
    from rich import box
    from rich.table import Table

    t = Table(
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        title=title,
        title_justify="left",
        title_style="bold",
        header_style="bold",
        show_lines=separate,
    )
    for c in columns:
        t.add_column(
            c.header,
            justify=c.justify,
            no_wrap=not c.wrap,
            overflow="fold" if c.wrap else "ellipsis",
            min_width=c.min_width,
            ratio=c.ratio if c.wrap else None,
        )
    return t


def cell(text: object, style: str = "") -> Text:
    """A cell as given (markup is not read: data may contain brackets)."""
    from rich.text import Text

    return Text("" if text is None else printable(str(text)), style=style)


def lines(*parts: tuple[object, str]) -> Text:
    """A cell of several lines, each with its style: ``lines((title, ""), (label, "dim"))``."""
    from rich.text import Text

    t = Text()
    for i, (text, style) in enumerate(p for p in parts if p[0] not in (None, "")):
        if i:
            t.append("\n")
        t.append(printable(str(text)), style=style)
    return t


def write_tsv(console: Console, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Tab-separated values: a header, then one line per row; tabs and line breaks inside a
    cell become spaces so that every row stays one line. Written straight to the console's
    file: rich's rendering of each line would cost a millisecond a row."""
    text = "".join("\t".join(_flat(v) for v in row) + "\n" for row in (header, *rows))
    console.file.write(text)


def print_rows(
    console: Console, columns: Sequence[Col], rows: Sequence[Sequence[object]], title: str
) -> None:
    """Rows of plain values as a listing command prints them: tab-separated in a pipe (the
    columns' headers first), a table titled ``title`` on a terminal."""
    if not is_terminal(console):
        write_tsv(console, [c.header for c in columns], rows)
        return
    t = terminal_table(columns, title)
    for row in rows:
        t.add_row(*(cell(v) for v in row))
    console.print(t)


def _flat(value: object) -> str:
    text = "" if value is None else printable(str(value))
    if "\t" in text or "\n" in text or "\r" in text:
        return " ".join(text.replace("\t", " ").splitlines())
    return text


def limited(console: Console, rows: list, limit: int | None) -> tuple[list, int]:
    """The rows to print and how many were left out: ``limit`` if given (0 = all), else
    :data:`TERMINAL_ROWS` on a terminal and every row in a pipe."""
    if limit is None:
        limit = TERMINAL_ROWS if is_terminal(console) else 0
    if limit and len(rows) > limit:
        return rows[:limit], len(rows) - limit
    return rows, 0
