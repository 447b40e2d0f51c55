"""Options several commands share, declared once so that their flag and help read the same."""

from __future__ import annotations

from typing import Annotated

import typer

JsonOpt = Annotated[bool, typer.Option("--json", help="机器可读的 JSON 输出")]
