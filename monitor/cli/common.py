"""What every command shares: loading settings, opening the app, printing, exit codes.

Exit codes (DESIGN §5): 0 ok, 1 problems found or command failed, 2 bad usage or input.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.console import Console

from monitor import timefmt
from monitor.app import App
from monitor.clock import Clock, ClockError, clock_from_env
from monitor.config import ConfigError, Settings, load_settings
from monitor.service.logs import register_secrets, setup_logging
from monitor.store.engine import SchemaError
from probes.checks.calendar import CalendarError
from probes.checks.rules import RulesetError

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2

console = Console()
err_console = Console(stderr=True, soft_wrap=True)  # errors are never wrapped mid-path


@dataclass
class State:
    config_path: Path | None = None
    _settings: Settings | None = None
    _clock: Clock | None = None

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
            try:
                self._settings = load_settings(self.config_path)
            except ConfigError as e:
                fail(str(e), EXIT_USAGE)
            setup_logging(self._settings.logging.level, self._settings.logging.format)
            register_secrets(self._settings.channels.values())
        return self._settings


def state(ctx: typer.Context) -> State:
    return ctx.ensure_object(State)


def fail(message: str, code: int = EXIT_PROBLEMS) -> NoReturn:
    err_console.print(f"[bold red]错误[/]: {message}", highlight=False)
    raise typer.Exit(code)


@contextmanager
def open_app(ctx: typer.Context, *, check: bool = True) -> Iterator[App]:
    st = state(ctx)
    settings, clock = st.settings, st.clock
    try:
        app = App.open(settings, check=check, clock=clock)
    except SchemaError as e:
        fail(str(e))
    try:  # rule sets and calendar files are configuration: a mistake there is bad input
        app.rulesets  # noqa: B018
        app.calendar  # noqa: B018
    except (RulesetError, CalendarError) as e:
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
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")
