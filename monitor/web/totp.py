"""The TOTP second factor for console users (RFC 6238: six digits every 30 seconds, HMAC-SHA1,
what every authenticator app reads from an ``otpauth://`` URI).

The arithmetic is ``cryptography``'s (``hazmat.primitives.twofactor.totp``), a dependency
already (APK signatures), so nothing is written by hand. A code is taken for the time step
it belongs to, the one before or the one after (a phone's clock a little off), and only for
a step later than the user's last accepted one: a code seen over someone's shoulder cannot
be used again.
"""

from __future__ import annotations

import base64
import hmac
import secrets
from datetime import datetime

from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor.totp import TOTP

DIGITS = 6
STEP = 30  # seconds
DRIFT = 1  # steps either side


def new_secret() -> str:
    """160 random bits (RFC 4226's recommended length), base32 as apps take them."""
    return base64.b32encode(secrets.token_bytes(20)).decode("ascii")


def _totp(secret: str) -> TOTP:
    return TOTP(base64.b32decode(secret), DIGITS, SHA1(), STEP)


def provisioning_uri(secret: str, name: str, issuer: str) -> str:
    """The ``otpauth://totp/…`` URI an authenticator app scans (as a QR code) or is given."""
    return _totp(secret).get_provisioning_uri(name, issuer)


def code_at(secret: str, when: datetime) -> str:
    return _totp(secret).generate(int(when.timestamp())).decode("ascii")


def accepted_step(secret: str, code: str, now: datetime, last_step: int | None) -> int | None:
    """The time step ``code`` is right for (within the drift, after ``last_step``), or None."""
    code = code.strip().replace(" ", "")
    if len(code) != DIGITS or not code.isascii() or not code.isdigit():
        return None
    totp = _totp(secret)
    current = int(now.timestamp()) // STEP
    for step in range(current - DRIFT, current + DRIFT + 1):
        if last_step is not None and step <= last_step:
            continue
        if hmac.compare_digest(totp.generate(step * STEP), code.encode("ascii")):
            return step
    return None
