"""Options several commands share, declared once so that their flag and help read the same."""

from __future__ import annotations

from typing import Annotated

import typer

JsonOpt = Annotated[bool, typer.Option("--json", help="机器可读的 JSON 输出")]
ByOpt = Annotated[str | None, typer.Option(metavar="姓名", help="操作人（默认当前登录用户）")]
PasswordStdinOpt = Annotated[
    bool, typer.Option("--password-stdin", help="从标准输入读取密码（一行）")
]
