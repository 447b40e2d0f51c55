"""What a fetch came to: the address checked, where it led, how it ended."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from probes.evidence.lines import Line, Run, blank, flagged, line, link, number, quote, unless
from probes.evidence.shape import LOCAL, Part

OUTCOMES = {
    "not_found": "页面不存在",
    "blocked": "被网站拦截",
    "error": "抓取出错",
    "unreadable": "读不出内容",
    "ok": "正常",
}


@dataclass(frozen=True, kw_only=True)
class Fetch(Part):
    """The page asked for and its answer. Beside an app's download (``App``) only the address
    is told: the download's own lines say its status."""

    ALWAYS: ClassVar[bool] = True
    outcome: str | None = None
    url: str | None = None
    final_url: str | None = None
    status_code: int | None = None
    reason: str | None = None
    beside_app: bool = field(default=False, metadata=LOCAL)

    @classmethod
    def read(cls, d: dict[str, Any], **local: Any) -> Fetch:
        return super().read(d, beside_app="download_url" in d, **local)

    def lines(self) -> list[Line]:
        out = []
        if self.url:
            bad = (quote(self.url), "（不是有效的网址）")
            out.append(line("检查地址：", link(self.url, otherwise=bad)))
        if self.final_url and not self.beside_app:
            out.append(line("被转到：", flagged(self.final_url)))
        if self.beside_app:
            return out
        outcome = OUTCOMES.get(str(self.outcome or ""))
        runs: list[Run] = [outcome] if outcome else []
        if number(self.status_code):  # said unless the reason, as drawn, says it
            status = f"HTTP {self.status_code}"
            more = not blank(self.reason or "")
            runs.append(unless(status, f"，{status}" if outcome else status + "，" * more))
        if not blank(self.reason or ""):
            runs += ["，"] * bool(outcome) + [quote(self.reason)]
        if runs:
            out.append(line("抓取结果：", *runs))
        return out
