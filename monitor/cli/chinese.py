"""typer in Chinese: the help pages and usage errors ``xuncha`` prints.

typer 0.29 vendors click, whose strings ("Show this message and exit.", "Missing argument",
"Usage:") are English with no catalogue to translate them, and its rich help renderer keeps
its panel titles in module constants. Rather than patch either, every group and command of
``xuncha`` is one of the classes below, through typer's documented ``cls=`` hook: they write
their own help page from the parameters click parsed, and :meth:`Group.main` prints click's
usage errors in Chinese from the exception's fields (``param``, ``option_name``…), exit 2.

Help is plain text: rich would cost a tenth of a second of imports for a page of text, and
its markup ate ``[web]`` from help texts. Widths are counted as a terminal shows them (a
Chinese character takes two columns), so wrapped help stays aligned at 80 columns.
"""

from __future__ import annotations

import inspect
import re
import shutil
import sys
import unicodedata
from collections.abc import Callable, Sequence
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

HELP_OPTIONS = ["-h", "--help"]
# typer's own options, in Chinese (its help texts are English and not translatable)
BUILTIN_HELP = {
    "help": "显示本帮助并退出",
    "install_completion": "为当前 shell 安装命令补全",
    "show_completion": "显示当前 shell 的补全脚本，可复制或自行安装",
}
# what a value is, when an option does not say (``metavar=`` in typer.Option overrides)
TYPE_WORDS = {int: "数字", float: "数字", str: "文本", bool: "是/否"}
MAX_WIDTH = 100  # help wider than this is hard to read even on a wide terminal


# -- widths and wrapping -------------------------------------------------------------------


def width(text: str) -> int:
    """Columns ``text`` takes in a terminal: two for a wide (Chinese) character."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


# a Chinese character stands alone; an ASCII word (an option, a path, a URL) is never broken;
# closing punctuation stays with what it closes
_TOKENS = re.compile(r"[ \t]+|[!-~]+[，。、；：！？）」》]*|.[，。、；：！？）」》]*")


def wrap(text: str, columns: int) -> list[str]:
    """Lines of at most ``columns`` columns (a longer single word overflows, unbroken)."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line, used = "", 0
        for token in _TOKENS.findall(paragraph):
            w = width(token)
            if token.isspace():
                if line:
                    line, used = line + " ", used + 1
                continue
            if used + w > columns and line.strip():
                lines.append(line.rstrip())
                line, used = "", 0
            line, used = line + token, used + w
        lines.append(line.rstrip())
    return lines


def _columns() -> int:
    return max(40, min(shutil.get_terminal_size((80, 24)).columns, MAX_WIDTH))


def definitions(rows: Sequence[tuple[str, str]], columns: int) -> list[str]:
    """Two columns, the second wrapped and aligned, as ``--help`` lists options."""
    if not rows:
        return []
    left = min(max(width(term) for term, _ in rows) + 4, 30)
    out = []
    for term, text in rows:
        body = wrap(text, max(columns - left, 20)) if text else [""]
        if width(term) + 4 > left:
            out.append(f"  {term}")
            out.extend(" " * left + line for line in body if line)
            continue
        out.append(f"  {term}" + " " * (left - 2 - width(term)) + body[0])
        out.extend(" " * left + line for line in body[1:])
    return out


# -- help pages ----------------------------------------------------------------------------


def _value_word(param: Any) -> str:
    """The placeholder of an option's value or an argument: ``<单位编码>``."""
    if param.metavar:
        word = param.metavar
    elif param.param_type_name == "argument":
        word = (param.name or "").upper()
    else:
        annotation = param.type_descriptor.annotation
        inner = getattr(annotation, "__args__", None)
        if inner and annotation is not str:  # list[str] and the like
            annotation = inner[0]
        word = "路径" if "Path" in getattr(annotation, "__name__", "") else ""
        word = word or TYPE_WORDS.get(annotation, "值")
    return f"<{word}>"


def _is_flag(param: Any) -> bool:
    return bool(getattr(param, "is_flag", False)) or bool(getattr(param, "count", False))


def _notes(param: Any) -> list[str]:
    """What click would add in English: the default, the environment variable, required."""
    notes = []
    if param.envvar and getattr(param, "show_envvar", True):
        names = [param.envvar] if isinstance(param.envvar, str) else list(param.envvar)
        notes.append("环境变量 " + "、".join(names))
    default = param.default
    if (
        not _is_flag(param)
        and not callable(default)
        and default not in (None, "", (), [])
        and getattr(param, "show_default", True) is not False
    ):
        shown = "、".join(map(str, default)) if isinstance(default, list | tuple) else default
        notes.append(f"默认 {shown}")
    lo, hi = getattr(param, "min", None), getattr(param, "max", None)
    lo = None if lo == 0 and hi is None else lo  # "at least 0" says nothing
    if lo is not None or hi is not None:
        notes.append(
            f"{lo} 到 {hi}" if lo is not None and hi is not None
            else f"至少 {lo}" if lo is not None else f"至多 {hi}"
        )  # fmt: skip
    if param.required and param.param_type_name == "option":
        notes.append("必填")
    return notes


def _option_row(param: Any) -> tuple[str, str]:
    # short options first, as every manual writes them: -c, --config
    opts = sorted(param.opts, key=lambda o: (o.startswith("--"), o))
    names = ", ".join([*opts, *param.secondary_opts])
    if not _is_flag(param):
        names += " " + _value_word(param) + ("…" if param.multiple else "")
    text = BUILTIN_HELP.get(param.name or "", param.help or "")
    if notes := _notes(param):
        text = f"{text}（{'；'.join(notes)}）" if text else "；".join(notes)
    return names, text


def _argument_row(param: Any) -> tuple[str, str]:
    more = "…" if param.nargs != 1 else ""
    return _value_word(param) + more, param.help or ""


def usage_line(command: Any, ctx: Any) -> str:
    pieces = [ctx.command_path]
    params = command.get_params(ctx)
    if any(p.param_type_name == "option" for p in params):
        pieces.append("[<选项>]")
    for p in params:
        if p.param_type_name != "argument":
            continue
        word = _value_word(p) + ("…" if p.nargs != 1 else "")
        pieces.append(word if p.required else f"[{word}]")
    if isinstance(command, TyperGroup):
        pieces.append("<命令> [<参数>…]")
    return "用法：" + " ".join(pieces)


def unfold(paragraph: str) -> str:
    """A docstring paragraph's lines as one: joined by a space, except between two Chinese
    characters (Chinese has no spaces; a space before an ASCII word stays)."""
    lines = [line.strip() for line in paragraph.split("\n")]
    text = lines[0] if lines else ""
    for line in lines[1:]:
        cjk = text and line and width(text[-1]) == 2 and width(line[0]) == 2
        text += line if cjk else f" {line}"
    return text


def help_page(command: Any, ctx: Any) -> str:
    """The whole ``--help`` page of a command or group, in Chinese."""
    columns = _columns()
    out = [usage_line(command, ctx), ""]
    if command.help:
        for paragraph in inspect.cleandoc(command.help).split("\n\n"):
            out.extend(wrap(unfold(paragraph), columns))
            out.append("")
    params = [p for p in command.get_params(ctx) if not getattr(p, "hidden", False)]
    arguments = [_argument_row(p) for p in params if p.param_type_name == "argument"]
    if arguments:
        out += ["参数：", *definitions(arguments, columns), ""]
    options = [_option_row(p) for p in params if p.param_type_name == "option"]
    if options:
        out += ["选项：", *definitions(options, columns), ""]
    if isinstance(command, TyperGroup):
        subs = [
            (name, short_help(sub))
            for name in command.list_commands(ctx)
            if (sub := command.get_command(ctx, name)) is not None and not sub.hidden
        ]
        if subs:
            out += ["命令：", *definitions(subs, columns), ""]
            out.append(f"每个命令的说明：{ctx.command_path} <命令> --help")
    while out and not out[-1]:
        out.pop()
    return "\n".join(out) + "\n"


def short_help(command: Any) -> str:
    """A command's line in its group's list: the first line of its help."""
    text = inspect.cleandoc(command.short_help or command.help or "")
    return text.split("\n", 1)[0].strip().rstrip("。")


# -- usage errors --------------------------------------------------------------------------

_PYDANTIC = {  # typer checks values with pydantic; its error types, in words
    "int_parsing": "须为整数",
    "int_from_float": "须为整数",
    "float_parsing": "须为数字",
    "bool_parsing": "须为是或否（true / false）",
    "greater_than_equal": "不能小于 {ge}",
    "greater_than": "须大于 {gt}",
    "less_than_equal": "不能大于 {le}",
    "less_than": "须小于 {lt}",
}
_MESSAGES: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (re.compile(r"No such command '(.*)'\.(?: Did you mean (.*)\?)?"),
     lambda m: f"没有命令 {m[1]}" + (f"。是不是要用 {m[2]}？" if m[2] else "")),
    (re.compile(r"Missing command\."), lambda m: "缺少命令"),
    (re.compile(r"Got unexpected extra argument\(s\) \((.*)\)"), lambda m: f"多余的参数：{m[1]}"),
    (re.compile(r"Option '(.*)' requires an argument\."), lambda m: f"选项 {m[1]} 需要一个值"),
    (re.compile(r"Option '(.*)' requires (\d+) arguments\."),
     lambda m: f"选项 {m[1]} 需要 {m[2]} 个值"),
    (re.compile(r"Option '(.*)' does not take a value\."), lambda m: f"选项 {m[1]} 不带值"),
    (re.compile(r"Argument '(.*)' takes (\d+) values\."),
     lambda m: f"参数 {m[1]} 需要 {m[2]} 个值"),
]  # fmt: skip


def _hint(param: Any) -> str:
    if param.param_type_name == "argument":
        return _value_word(param)
    return " / ".join(param.opts)


def error_text(e: Any) -> str:
    """A usage error, in Chinese: what was wrong, from the exception's own fields."""
    param = getattr(e, "param", None)
    if hasattr(e, "param_type") and param is not None:  # a missing argument or option
        what = "参数" if param.param_type_name == "argument" else "选项"
        return f"缺少{what} {_hint(param)}" + (f"：{param.help}" if param.help else "")
    if hasattr(e, "possibilities"):  # an option that does not exist
        text = f"没有选项 {e.option_name}"
        if e.possibilities:
            text += f"。是不是要用 {'、'.join(sorted(e.possibilities))}？"
        return text
    if param is not None:  # a value the parameter does not take
        cause = e.__cause__
        why = e.message
        if cause is not None and hasattr(cause, "errors") and cause.errors():
            first = cause.errors()[0]
            template = _PYDANTIC.get(first.get("type", ""))
            if template:
                why = template.format(**(first.get("ctx") or {}))
            return f"{_hint(param)} 的值 {first.get('input')!r} 无效：{why}"
        return f"{_hint(param)} 的值无效：{why}"
    for pattern, say in _MESSAGES:
        if m := pattern.fullmatch(e.message):
            return say(m)
    return e.message


# -- the classes every group and command is made of ----------------------------------------


class Command(TyperCommand):
    """A command whose ``--help`` is Chinese, and which, when the database cannot be
    reached or opened, says so in one line (exit 1) instead of a driver's traceback."""

    def format_help(self, ctx: Any, formatter: Any) -> None:
        formatter.write(help_page(self, ctx))

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as e:
            if hasattr(e, "exit_code") or (line := _database_problem(e, ctx)) is None:
                raise  # click's own exits and errors; and anything not the database
            sys.stderr.write(f"错误：{line}\n")
            raise typer.Exit(1) from None


def _database_problem(e: Exception, ctx: Any) -> str | None:
    """The one line for a database that cannot be used, with its (masked) address when the
    settings were read; None when ``e`` is something else."""
    from monitor.store.engine import database_problem

    settings = getattr(ctx.find_root().obj, "_settings", None)
    return database_problem(e, settings.database_url if settings is not None else None)


class Group(TyperGroup):
    """A group whose ``--help`` is Chinese and whose usage errors are printed in Chinese."""

    def format_help(self, ctx: Any, formatter: Any) -> None:
        formatter.write(help_page(self, ctx))

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        prog_name = prog_name or "xuncha"  # also under ``python -m monitor``: what docs say
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            rv = super().main(args, prog_name, complete_var, False, **extra)
        except typer.Abort:
            sys.stderr.write("已取消。\n")
            sys.exit(1)
        except typer.TyperException as e:  # click's errors (typer vendors click)
            sys.exit(_report(e))
        sys.exit(rv if isinstance(rv, int) else 0)


def _report(e: Any) -> int:
    """Print a click error in Chinese; its exit code (2 for bad usage)."""
    ctx = getattr(e, "ctx", None)
    if type(e).__name__ == "NoArgsIsHelpError":  # a group named without a command
        sys.stderr.write(e.message.rstrip("\n") + "\n")
        return int(e.exit_code)
    if not hasattr(e, "ctx"):  # not a usage error (a file click could not open)
        sys.stderr.write(f"错误：{e.format_message()}\n")
        return int(e.exit_code)
    usage = f"{usage_line(ctx.command, ctx)}\n" if ctx is not None else ""
    more = f"查看帮助：{ctx.command_path} --help\n" if ctx is not None else ""
    sys.stderr.write(f"{usage}错误：{error_text(e)}\n{more}")
    return int(e.exit_code)


class Typer(typer.Typer):
    """``typer.Typer`` whose groups and commands are the Chinese ones above."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("cls", Group)
        kwargs.setdefault("rich_markup_mode", None)
        kwargs.setdefault("no_args_is_help", True)
        kwargs.setdefault("context_settings", {"help_option_names": HELP_OPTIONS})
        super().__init__(**kwargs)

    def command(self, name: str | None = None, **kwargs: Any) -> Any:  # type: ignore[override]
        kwargs.setdefault("cls", Command)
        return super().command(name, **kwargs)
