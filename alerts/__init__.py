"""Who is told what, when, through which channel.

Knows nothing of the database or of probes (docs/architecture.md): ``monitor`` hands over a
``FindingNotice`` and an apprise URL, and gets a ``DeliveryResult`` back.
"""

from typing import Any

from alerts.messages import render
from alerts.notice import FindingNotice, Message

__all__ = [
    "DeliveryResult",
    "FindingNotice",
    "Message",
    "deliver",
    "mask_url",
    "render",
]


def __getattr__(name: str) -> Any:
    # the sender (apprise, requests, httpx) loads when something is sent, not whenever a
    # label or a routing rule is read: the CLI's listings and help stay quick
    if name in ("DeliveryResult", "deliver", "mask_url"):
        from alerts import send

        return getattr(send, name)
    raise AttributeError(f"module 'alerts' has no attribute {name!r}")
