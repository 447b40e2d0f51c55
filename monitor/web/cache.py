"""A small in-process cache for the account page's slow parts (posting timeline, profile
history), keyed by the account's newest snapshot: a new snapshot is a new key, so nothing is
ever stale, and an account checked every 10 minutes is computed at most that often."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlmodel import Session, col, select

from monitor.store.models import Snapshot

T = TypeVar("T")


class AccountCache:
    def __init__(self, size: int = 512) -> None:
        self.size = size
        self._data: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return self._data[key]
        value = compute()  # outside the lock: two requests may compute it once each
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)
        return value


def newest_snapshot_id(session: Session, account_id: str) -> int | None:
    return session.exec(
        select(col(Snapshot.id))
        .where(col(Snapshot.account_id) == account_id)
        .order_by(col(Snapshot.taken_at).desc(), col(Snapshot.id).desc())
        .limit(1)
    ).first()
