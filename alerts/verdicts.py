"""How a refused send reads, and whether retrying can help.

Its own module because both senders need it: ``alerts.send`` (apprise) and ``alerts.bots``
(the DingTalk, WeCom and Feishu/Lark robots, which ``send`` dispatches to). Kept in either
one, the other would import back into it.
"""

from __future__ import annotations


def http_verdict(status: int) -> tuple[bool, str]:
    """(permanent, reason) for an HTTP error status: a 4xx will not change on retry, except
    408 (timeout) and 429 (rate limit); 5xx and anything else may."""
    if status == 429:
        return False, f"HTTP {status}：通知渠道限流，稍后重试"
    if status in (401, 403):
        return True, f"HTTP {status}：通知渠道拒绝（令牌、密钥或签名无效，或无权限）"
    if status in (404, 410):
        return True, f"HTTP {status}：通知地址不存在（机器人可能已被删除）"
    if 400 <= status < 500 and status != 408:
        return True, f"HTTP {status}：通知渠道拒绝了该消息"
    return False, f"HTTP {status}：通知渠道暂时不可用"


# An apprise plugin that reads a provider's code inside HTTP 200 logs "rejected our
# notification: code=…", which is where ``alerts.send`` reads it. (DingTalk, WeCom, Feishu and
# Lark robots are sent by ``alerts.bots``, which reads their codes itself; these words stay
# for an apprise plugin that logs a code so, Feishu's own among them.)
_TRANSIENT_CODES: dict[str, frozenset[int]] = {
    "feishu": frozenset({11232}),  # 11232: frequency limited
    "lark": frozenset({11232}),
}


def code_verdict(scheme: str, code: int, msg: str = "") -> tuple[bool, str]:
    """(permanent, reason) for a provider error code answered inside HTTP 200."""
    detail = f"（{msg[:200]}）" if msg else ""
    if code in _TRANSIENT_CODES.get(scheme, frozenset()):
        return False, f"通知渠道暂时拒绝，错误码 {code}{detail}，稍后重试"
    return True, f"通知渠道拒绝了该消息，错误码 {code}{detail}"
