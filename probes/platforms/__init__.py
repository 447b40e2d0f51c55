"""Platforms: each declared in its own package, read by a registry of readers.

A platform's package (``probes/platforms/<code>/``) declares what it is in its ``__init__``
(:class:`~probes.platforms.spec.PlatformSpec`: code, Chinese name, registry spellings,
default interval, origins, session needs, readers) and reads accounts in its ``reader``
module. Importing this package loads the declarations only — cheap, so a listing or the
registry can name platforms — and the readers (HTTP, parsers, the browser) load on first use
of :data:`READERS` or :func:`observe` (registry pattern after urlwatch's job kinds).

A reader turns a :class:`~probes.model.Target` into an :class:`~probes.model.Observation`,
given the :class:`~probes.fetch.Tools` it may use. :func:`observe` is what the daemon calls:
an unknown reader, a failed fetch or a reader bug each become an ``error`` observation with
a Chinese reason, so one broken account never stops a patrol; an empty answer that is not
the platform's own word is ``unreadable`` (:mod:`probes.sight`).

Readers that need "now" (relative dates such as "3小时前", the observation time) call
:func:`clock`, which :func:`observe` pins for the duration of one call.
"""

from __future__ import annotations

import pkgutil
from importlib import import_module
from importlib.util import find_spec
from typing import Any

from probes import apps as _apps  # noqa: F401  (declares "app")
from probes.platforms import generic as _generic  # noqa: F401  (website, other)
from probes.platforms.spec import PLATFORMS, PlatformSpec, SessionNeed, declare, platform_name

#: every platform package here (``probes/platforms/<code>/``): found, not listed, so adding
#: a platform is adding its package
PACKAGES = tuple(m.name for m in pkgutil.iter_modules(__path__) if m.ispkg)
for _name in PACKAGES:
    import_module(f"{__name__}.{_name}")  # its declaration, not its reader

#: the modules whose import registers a reader (``@register``)
_READER_MODULES = (
    "probes.apps.reader",
    "probes.platforms.rss",
    "probes.platforms.webpage",
    *(m for p in PACKAGES if find_spec(m := f"{__name__}.{p}.reader") is not None),
)
#: what the reader registry gives, loaded with every reader on first use
_REGISTRY_NAMES = frozenset(
    {"READERS", "Reader", "clock", "describe_status", "failed", "get_reader",
     "observation_from", "observe", "outcome_for_status", "register"}
)  # fmt: skip


def load_readers() -> None:
    """Import every reader module, so that each has registered its reader."""
    for name in _READER_MODULES:
        import_module(name)


def __getattr__(name: str) -> Any:
    if name in _REGISTRY_NAMES:
        load_readers()
        return getattr(import_module("probes.platforms.registry"), name)
    if name in ("rss", "webpage", "browsing", "common", "dates", "registry"):
        return import_module(f"probes.platforms.{name}")
    raise AttributeError(f"module 'probes.platforms' has no attribute {name!r}")


__all__ = [
    "PACKAGES",
    "PLATFORMS",
    "PlatformSpec",
    "SessionNeed",
    "declare",
    "load_readers",
    "platform_name",
]
