"""What inspecting an APK yields: its facts and signers, or :class:`ApkError`.

The types every part of the inspection shares (manifest, signing block, verdict), kept
apart so that those parts import them and not each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class ApkError(Exception):
    """The file cannot be read as an APK; ``message`` is Chinese, for the duty officer."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class Signer:
    scheme: str  # v1, v2, v3
    cert_sha256: str  # of the DER certificate, lower-case hex (what apksigner prints)
    lineage: list[str] = field(default_factory=list)  # v3: older certs' sha256, oldest first
    sdk: tuple[int, int] | None = None  # v3: platform versions this signer is for


@dataclass
class ApkInfo:
    """What :func:`probes.apps.apk.inspect_apk` learned.

    ``problems`` are Chinese lines; any means untrusted.
    """

    package: str | None = None
    version_code: int | None = None
    version_name: str | None = None
    min_sdk: int | None = None
    signer_sha256: str | None = None  # the signer Android would use, when verification passed
    schemes: list[str] = field(default_factory=list)
    lineage: list[str] = field(default_factory=list)  # certs the v3 signer rotated from
    signers: list[Signer] = field(default_factory=list)
    v1_verified: bool = False  # v1 JAR signature checked (only when it is the only scheme)
    problems: list[str] = field(default_factory=list)
