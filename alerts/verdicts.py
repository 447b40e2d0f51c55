"""How a refused send reads, and whether retrying can help.

Its own module because every messenger needs it (``alerts.messengers``: the robots, the
SMS gateway, apprise), and none of them imports another.
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
# notification: code=…"; ``transient`` are the codes the scheme's messenger declares as "too
# fast" (``alerts.messengers``): those may pass, the rest will not.
def code_verdict(
    code: int, msg: str = "", *, transient: frozenset[int] = frozenset()
) -> tuple[bool, str]:
    """(permanent, reason) for a provider error code answered inside HTTP 200."""
    detail = f"（{msg[:200]}）" if msg else ""
    if code in transient:
        return False, f"通知渠道暂时拒绝，错误码 {code}{detail}，稍后重试"
    return True, f"通知渠道拒绝了该消息，错误码 {code}{detail}"
