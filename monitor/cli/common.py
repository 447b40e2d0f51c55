"""What every command shares: loading settings, opening the app, printing, exit codes.

Exit codes (README): 0 ok, 1 problems found or command failed, 2 bad usage or input.

Nothing heavy is imported at the top of this module or of any command module: ``xuncha
--help`` loads only the commands' signatures (``tests/test_cli_help.py`` keeps it so); the
settings, the database and rich are imported by the command that uses them.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer

from monitor import timefmt
from monitor.clock import Clock, ClockError, clock_from_env

if TYPE_CHECKING:
    from rich.console import Console

    from monitor.app import App
    from monitor.config import Settings

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


@dataclass
class State:
    """One invocation's settings, clock and console, each built when first used."""

    config_path: Path | None = None
    _settings: Settings | None = None
    _clock: Clock | None = None
    _console: Console | None = None

    @property
    def clock(self) -> Clock:
        """The system clock, or the one ``XUNCHA_CLOCK`` sets (monitor.clock)."""
        if self._clock is None:
            try:
                self._clock = clock_from_env()
            except ClockError as e:
                fail(str(e), EXIT_USAGE)
        return self._clock

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from monitor.config import ConfigError, load_settings
            from monitor.service.logs import register_secrets, setup_logging

            try:
                self._settings = load_settings(self.config_path)
            except ConfigError as e:
                fail(str(e), EXIT_USAGE)
            setup_logging(self._settings.logging.level, self._settings.logging.format)
            register_secrets(self._settings.channels.values())
        return self._settings

    @property
    def console(self) -> Console:
        """Standard output as this invocation prints it (``monitor.show.terminal``)."""
        if self._console is None:
            from monitor.show.terminal import make_console

            self._console = make_console()
        return self._console


def state(ctx: typer.Context) -> State:
    return ctx.ensure_object(State)


def out(ctx: typer.Context) -> Console:
    """The console a command prints to: a terminal's, or a pipe's (full cells, no colour)."""
    return state(ctx).console


def fail(message: str, code: int = EXIT_PROBLEMS) -> NoReturn:
    from monitor.show.terminal import make_console

    make_console(stderr=True).print(f"[bold red]错误[/]：{_escaped(message)}")
    raise typer.Exit(code)


def _escaped(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def no_database(settings: Settings) -> str | None:
    """Why a command that reads the database cannot run, before anything is created: the
    SQLite file it would open does not exist yet. None if there is one (or it is elsewhere:
    a PostgreSQL without our tables is refused by the schema check, which creates nothing).
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(settings.database_url)
    except ArgumentError:
        return None  # not an address: opening it says so (store.engine.database_problem)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    path = Path(url.database)
    if path.exists():
        return None
    return (
        f"还没有数据库：{path}\n"
        "  新建：xuncha init，再用 xuncha registry import 导入登记表\n"
        "  试用：xuncha demo，再执行它最后打印的那一行 export XUNCHA_CONFIG=…\n"
        "  已有数据库：用 --config 或环境变量 XUNCHA_CONFIG 指明它的配置文件"
    )


@contextmanager
def open_app(
    ctx: typer.Context, *, check: bool = True, rules: bool = True, calendar: bool = False
) -> Iterator[App]:
    """The wiring for one command. With ``check`` (every command but ``init``), a database
    that does not exist is reported and never created, and an old schema is refused. The
    rule sets are loaded unless a command shows and judges none (``rules``); the working
    calendar only for the commands that judge (``calendar``): a listing does not pay for
    what it does not use."""
    from monitor.app import App
    from monitor.store.engine import SchemaError
    from probes.checks.rules import RulesetError

    st = state(ctx)
    settings, clock = st.settings, st.clock
    if check and (why := no_database(settings)):
        fail(why)
    try:
        app = App.open(settings, check=check, clock=clock)
    except SchemaError as e:
        fail(str(e))
    # rule sets and calendar files are configuration: a mistake there is bad input (exit 2)
    try:
        if rules:
            app.rulesets  # noqa: B018
    except RulesetError as e:
        app.close()
        fail(str(e), EXIT_USAGE)
    if calendar:
        from probes.checks.calendar import CalendarError

        try:
            app.calendar  # noqa: B018
        except CalendarError as e:
            app.close()
            fail(str(e), EXIT_USAGE)
    try:
        yield app
    finally:
        app.close()


def local(dt: datetime | None, tz: str = timefmt.DEFAULT_TZ, *, seconds: bool = False) -> str:
    """A time for a table or a line of output (``monitor.timefmt.shown``)."""
    return timefmt.shown(dt, tz, seconds=seconds)


def iso(dt: datetime | None, tz: str = timefmt.DEFAULT_TZ) -> str | None:
    """A time for ``--json``: ISO 8601 in the display zone (``monitor.timefmt.iso``)."""
    return timefmt.iso(dt, tz)


def print_json(data: Any) -> None:
    """JSON on stdout; scraped control characters escaped (``monitor.printable``)."""
    from monitor.printable import json_printable

    text = json.dumps(data, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write(json_printable(text) + "\n")
