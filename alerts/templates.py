"""Message templates that ops may override in config (``[alerts.templates]``).

The built-in renderer (``alerts.messages``) is the default and knows the providers' limits.
An office that wants its own wording (a 文号, a fixed greeting, a keyword its DingTalk robot
requires) writes Jinja2 here. Templates run in Jinja2's sandbox, and every value they get
has already been neutralised for markdown and mentions, because a value may come from a
scraped page.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, field_validator

from alerts.notice import Message

if TYPE_CHECKING:
    from jinja2.sandbox import SandboxedEnvironment


class AlertTemplates(BaseModel):
    """Jinja2 source for one finding message; "" keeps the built-in text.

    Variables: event, label (单项否决/预警/已恢复…), account, account_id, platform, unit,
    unit_code, kind, problem, detail, rule, severity, deadline, found, snapshot, finding, link.
    """

    model_config = ConfigDict(extra="forbid")

    title: str = ""
    markdown: str = ""
    text: str = ""

    @field_validator("title", "markdown", "text")
    @classmethod
    def _compiles(cls, v: str) -> str:
        if v:
            from jinja2 import TemplateError

            try:
                _env().from_string(v)
            except TemplateError as e:
                raise ValueError(f"模板无法解析：{e}") from None
        return v

    @property
    def active(self) -> bool:
        return bool(self.title or self.markdown or self.text)


@cache
def _env() -> SandboxedEnvironment:
    # built on first use: every process loads the config, few render an office's template,
    # and Jinja2's import is a tenth of a second of a CLI listing's time
    from jinja2 import StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    return SandboxedEnvironment(
        undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False
    )


def apply(templates: AlertTemplates, built_in: Message, ctx: dict[str, Any]) -> Message:
    """``built_in`` with the parts the office templated replaced; a template that fails at
    render time (an unknown variable) falls back to the built-in part rather than lose the
    message."""
    from jinja2 import TemplateError

    out = Message(
        title=built_in.title, markdown=built_in.markdown, text=built_in.text, level=built_in.level
    )
    for part in ("title", "markdown", "text"):
        source = getattr(templates, part)
        if not source:
            continue
        try:
            rendered = _env().from_string(source).render(**ctx).strip()
        except TemplateError:
            continue
        if rendered:
            setattr(out, part, rendered if part != "title" else " ".join(rendered.split()))
    return out
