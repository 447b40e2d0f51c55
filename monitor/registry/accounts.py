"""What an account's registry row means for a check: which reader reads it, which rules judge it.

The patrol, the console and the CLI all show or use these, so they are decided here once.
"""

from __future__ import annotations

from monitor.store.models import Account
from probes.platforms.spec import PLATFORMS

#: readers that read any platform's page or feed: chosen by the account's options
GENERIC_READERS = frozenset({"rss", "webpage"})


def reader_for(account: Account) -> str:
    """The account's reader: explicit, else the platform's own (its declaration's first
    reader), else — for platforms read by the generic readers — by its options."""
    if account.reader:
        return account.reader
    spec = PLATFORMS.get(account.platform)
    own = spec.reader if spec else None
    if own is not None and own not in GENERIC_READERS:
        return own
    return "webpage" if "item" in account.options else "rss"


def ruleset_for(account: Account) -> str:
    """The account's rule set: explicit, else national for publishing accounts."""
    return account.ruleset or ("national" if account.kind == "publish" else "service")
