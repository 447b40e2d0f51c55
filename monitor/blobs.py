"""Content-addressed, compressed store for raw artifacts (pages, feeds, screenshots).

A blob's name is the sha256 of its uncompressed bytes, so an unchanged page costs
no second copy and a snapshot's hash proves what was seen. Files are gzip (ops can
``zcat`` them) and written to a temporary name then renamed, so a crash never
leaves a half-written blob under its real name.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
from pathlib import Path


class BlobCorrupt(Exception):
    """A stored blob no longer matches its hash."""


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, digest: str) -> Path:
        return self.root / digest[:2] / digest[2:4] / f"{digest}.gz"

    def put(self, data: bytes) -> str:
        """Store ``data`` once; returns its sha256 hex digest."""
        digest = hashlib.sha256(data).hexdigest()
        target = self.path(digest)
        if target.exists():
            return digest
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with (
                os.fdopen(fd, "wb") as raw,
                gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=0) as gz,
            ):
                gz.write(data)
                gz.flush()
                raw.flush()
                os.fsync(raw.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return digest

    def get(self, digest: str) -> bytes:
        """Read a blob back, verifying it still matches its hash."""
        try:
            data = gzip.decompress(self.path(digest).read_bytes())
        except (OSError, EOFError) as e:
            raise BlobCorrupt(f"证据文件 {digest[:12]} 无法读取: {e}") from e
        if hashlib.sha256(data).hexdigest() != digest:
            raise BlobCorrupt(f"证据文件 {digest[:12]} 内容与哈希不符")
        return data

    def exists(self, digest: str) -> bool:
        return self.path(digest).exists()
