"""Who is told what, when, through which channel.

Knows nothing of the database or of probes (DESIGN §1): ``monitor`` hands over a
``FindingNotice`` and an apprise URL, and gets a ``DeliveryResult`` back.
"""

from alerts.messages import render
from alerts.notice import FindingNotice, Message
from alerts.send import DeliveryResult, deliver, mask_url

__all__ = [
    "DeliveryResult",
    "FindingNotice",
    "Message",
    "deliver",
    "mask_url",
    "render",
]
