"""Messengers, one module per robot family, found by a channel URL's scheme.

``base`` says what a messenger declares and keeps the registry; each family module
registers itself when imported here. To add one: a module with a ``Messenger`` subclass
and ``register(...)``, imported below (a test may register its own; docs/architecture.md).
"""

from alerts.messengers import dingtalk, feishu, generic, sms, wecom
from alerts.messengers.base import (
    UNPARSEABLE,
    Delivery,
    Messenger,
    Verdict,
    default_rates,
    for_scheme,
    for_url,
    mobiles,
    own,
    register,
    scheme_of,
    unregister,
)

FAMILIES = (dingtalk, wecom, feishu, sms, generic)

__all__ = [
    "FAMILIES",
    "UNPARSEABLE",
    "Delivery",
    "Messenger",
    "Verdict",
    "default_rates",
    "for_scheme",
    "for_url",
    "mobiles",
    "own",
    "register",
    "scheme_of",
    "unregister",
]
