"""Content-addressed, compressed store for raw artifacts (pages, feeds, screenshots).

A blob's name is the sha256 of its uncompressed bytes, so an unchanged page costs
no second copy and a snapshot's hash proves what was seen. Files are gzip (ops can
``zcat`` them), written to a temporary name, made durable, then renamed, so a crash
never leaves a half-written blob under its real name.

:meth:`BlobStore.put_many` stores the artifacts of several checks with ONE durability
point (``syncfs``) instead of an ``fsync`` per file: a batch of checks is committed to
the database together, after its blobs are on disk.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import gzip
import hashlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path


class BlobCorrupt(Exception):
    """A stored blob no longer matches its hash."""


def _load_syncfs() -> object | None:
    """libc ``syncfs`` (Linux): one call makes every file written so far durable."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        fn = libc.syncfs
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int]
    fn.restype = ctypes.c_int
    return fn


_syncfs = _load_syncfs()


def unpack(digest: str, packed: bytes) -> bytes:
    """Decompress a stored blob and check it against its name: the one way evidence is read
    back, whichever store kept it."""
    try:
        data = gzip.decompress(packed)
    except (OSError, EOFError) as e:
        raise BlobCorrupt(f"证据文件 {digest[:12]} 无法读取: {e}") from e
    if hashlib.sha256(data).hexdigest() != digest:
        raise BlobCorrupt(f"证据文件 {digest[:12]} 内容与哈希不符")
    return data


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._dirs: set[Path] = set()  # made already: no mkdir per blob

    def path(self, digest: str) -> Path:
        return self.root / digest[:2] / digest[2:4] / f"{digest}.gz"

    def put(self, data: bytes) -> str:
        """Store ``data`` once; returns its sha256 hex digest."""
        return self.put_many([data])[0]

    def put_many(self, items: Iterable[bytes]) -> list[str]:
        """Store several blobs, durable together before this returns; their digests in order.

        Each new blob goes to a temporary file; then one ``syncfs`` (or an ``fsync`` per
        file where ``syncfs`` is missing) makes them durable, and only then are they renamed
        to their real names, so a name always holds a complete blob.
        """
        digests: list[str] = []
        pending: dict[str, tuple[int, str, Path]] = {}  # digest -> (fd, tmp, target)
        try:
            for data in items:
                digest = hashlib.sha256(data).hexdigest()
                digests.append(digest)
                target = self.path(digest)
                if digest in pending or target.exists():
                    continue
                fd, tmp = self._mkstemp(target.parent)
                pending[digest] = (fd, tmp, target)
                packed = gzip.compress(data, compresslevel=6, mtime=0)
                view = memoryview(packed)
                while view:
                    view = view[os.write(fd, view) :]
            if pending:
                self._make_durable([fd for fd, _, _ in pending.values()])
            while pending:
                digest, (fd, tmp, target) = next(iter(pending.items()))
                del pending[digest]
                try:
                    os.replace(tmp, target)
                except BaseException:
                    Path(tmp).unlink(missing_ok=True)
                    raise
                finally:
                    os.close(fd)
        finally:
            for fd, tmp, _ in pending.values():  # a failure: no half-written blob remains
                with contextlib.suppress(OSError):
                    os.close(fd)
                Path(tmp).unlink(missing_ok=True)
        return digests

    def _mkstemp(self, d: Path) -> tuple[int, str]:
        if d not in self._dirs:
            d.mkdir(parents=True, exist_ok=True)
            self._dirs.add(d)
        try:
            return tempfile.mkstemp(dir=d, prefix=".tmp-")
        except FileNotFoundError:  # removed behind our back (an operator, retention)
            d.mkdir(parents=True, exist_ok=True)
            return tempfile.mkstemp(dir=d, prefix=".tmp-")

    @staticmethod
    def _make_durable(fds: list[int]) -> None:
        if _syncfs is not None and len(fds) > 1 and _syncfs(fds[0]) == 0:  # type: ignore[operator]
            return
        for fd in fds:
            os.fsync(fd)

    def get(self, digest: str) -> bytes:
        """Read a blob back, verifying it still matches its hash."""
        try:
            packed = self.path(digest).read_bytes()
        except OSError as e:
            raise BlobCorrupt(f"证据文件 {digest[:12]} 无法读取: {e}") from e
        return unpack(digest, packed)

    def exists(self, digest: str) -> bool:
        return self.path(digest).exists()
