"""What an account's registry row means for a check: which reader reads it, which rules judge it.

The patrol, the console and the CLI all show or use these, so they are decided here once.
"""

from __future__ import annotations

from monitor.store.models import Account
from probes.platforms import READERS


def reader_for(account: Account) -> str:
    """The account's reader: explicit, else the platform's own, else by its options."""
    if account.reader:
        return account.reader
    if account.platform in READERS:
        return account.platform
    return "webpage" if "item" in account.options else "rss"


def ruleset_for(account: Account) -> str:
    """The account's rule set: explicit, else national for publishing accounts."""
    return account.ruleset or ("national" if account.kind == "publish" else "service")
