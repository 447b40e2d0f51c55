"""Mobile clients: streamed download, APK verification and app-store presence.

``download`` fetches a package hop by hop into a temporary file (TLS facts per host);
``apk`` reads its manifest and signers (v3 → v2 → v1, as Android does; ``jar`` verifies a
v1-only signature); ``stores`` asks the iOS and Android stores; ``reader`` registers the
``app`` reader that puts all of it on :attr:`probes.model.Observation.app`. The judgement
lives in :mod:`probes.checks.install`.
"""

from __future__ import annotations

from probes.platforms.spec import PlatformSpec, declare

#: the mobile clients' platform: read by ``probes.apps.reader`` (registered as "app")
PLATFORM = declare(
    PlatformSpec(
        code="app", name="移动客户端", aliases=("客户端", "APP"), readers=("app",), rank=90
    )
)
