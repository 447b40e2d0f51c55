"""The two bodies every message has: markdown for chat robots and webhooks, plain text for
mail. What differs between them is here, so the wording is written once."""

from __future__ import annotations

from collections.abc import Iterable

from alerts.text import inert, inline


class Markdown:
    """The markdown every robot renders alike (DingTalk, WeCom, Feishu's ``lark_md``): bold
    labels, ``[label](url)`` links and ``- `` lines; no headings, tables or HTML, which some
    of them show raw."""

    markdown = True
    bullet = "- "
    sub = "  - "
    sub2 = "    - "

    def field(self, label: str, value: str) -> str:
        return f"- **{label}**：{value}"

    def strong(self, text: str) -> str:
        return f"**{text}**"

    def safe(self, value: object, limit: int = 120) -> str:
        return inert(value, limit)

    def link(self, label: str, url: str) -> str:
        """``url`` must come from ``alerts.text.safe_url``; ``label`` is ours."""
        return f"[{label}]({url})"

    def join(self, lines: Iterable[str]) -> str:
        return "\n".join(lines)


class Text:
    """Plain text for mail: mail clients make links of bare http(s) URLs themselves."""

    markdown = False
    bullet = ""
    sub = "  · "
    sub2 = "      "

    def field(self, label: str, value: str) -> str:
        return f"{label}：{value}"

    def strong(self, text: str) -> str:
        return text

    def safe(self, value: object, limit: int = 120) -> str:
        return inline(value, limit).replace("@", "＠")  # no renderer, but never a mention either

    def link(self, label: str, url: str) -> str:
        # spaces around: a mail client must not read the next word as part of the address
        return f"{label} {url} "

    def join(self, lines: Iterable[str]) -> str:
        return "\n".join(line.rstrip(" ") for line in lines)


Format = Markdown | Text
