"""What an account's registry row means for a check: which reader reads it, which rules judge it.

The patrol, the console and the CLI all show or use these, so they are decided here once.
"""

from __future__ import annotations

from monitor.store.models import Account


def reader_for(account: Account) -> str:
    """The account's reader: explicit, else the platform's own, else by its options."""
    # here, not at the top: the readers (HTTP, parsers) load for a check, not for a listing
    from probes.platforms import READERS

    if account.reader:
        return account.reader
    if account.platform in READERS:
        return account.platform
    return "webpage" if "item" in account.options else "rss"


def ruleset_for(account: Account) -> str:
    """The account's rule set: explicit, else national for publishing accounts."""
    return account.ruleset or ("national" if account.kind == "publish" else "service")
