"""What xuncha knows of each platform's login, read from the platforms' own declarations.

Each platform declares its :class:`~probes.platforms.spec.Login` (cookie domains, the
cookies that are the login, its login page and QR code, with their source) beside its
reader; here are the questions the session code asks of them. A platform's other hosts (the
readers' ``origins``) and any stand-in configured for them are the platform's too
(:func:`cookie_hosts`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from urllib.parse import urlsplit

from probes.platforms.spec import PLATFORMS, Login


class _Logins(Mapping[str, Login]):
    """code -> its login, for the platforms that declare one (read live)."""

    def __getitem__(self, code: str) -> Login:
        spec = PLATFORMS.get(code)
        if spec is None or spec.login is None:
            raise KeyError(code)
        return spec.login

    def __iter__(self) -> Iterator[str]:
        return (c for c, p in PLATFORMS.items() if p.login is not None)

    def __len__(self) -> int:
        return sum(1 for _ in self)


LOGIN: Mapping[str, Login] = _Logins()


def supported(platform: str) -> bool:
    return platform in LOGIN


def login_url(platform: str, origins: Mapping[str, str]) -> str:
    """The login page, on the ``login`` origin when ``[platforms.<p>] origins`` gives one."""
    url = LOGIN[platform].login_url
    base = origins.get("login", "").rstrip("/")
    if not base:
        return url
    parts = urlsplit(url)
    return base + (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def cookie_hosts(platform: str, defaults: Mapping[str, str], origins: Mapping[str, str]) -> dict:
    """Real host → stand-in base URL, for each origin key ``[platforms.<p>] origins`` gives a
    stand-in for (``defaults``: the platform's own origins, plus the login page's)."""
    real = {**defaults, "login": LOGIN[platform].login_url} if platform in LOGIN else defaults
    out: dict[str, str] = {}
    for key, base in origins.items():
        host = urlsplit(real.get(key, "")).hostname
        if host and base:
            out[host] = base
    return out


def owns(platform: str, host: str, stand_ins: Mapping[str, str]) -> bool:
    """Whether a cookie for ``host`` is the platform's: one of its domains (or a subdomain),
    or the host of a stand-in configured for it."""
    host = host.lstrip(".").lower()
    if any(host == d or host.endswith("." + d) for d in LOGIN[platform].domains):
        return True
    return any(host == (urlsplit(b).hostname or "").lower() for b in stand_ins.values())
