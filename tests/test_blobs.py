from pathlib import Path

import pytest

from monitor.store.blobs import BlobCorrupt, BlobStore


def test_unchanged_content_is_stored_once(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    page = "<html>政务动态</html>".encode() * 100
    a, b = store.put(page), store.put(page)
    assert a == b
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(files) == 1
    assert files[0].stat().st_size < len(page)  # compressed
    assert store.get(a) == page


def test_tampered_blob_is_detected(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    digest = store.put(b"evidence")
    import gzip

    store.path(digest).write_bytes(gzip.compress(b"forged"))
    with pytest.raises(BlobCorrupt, match="哈希不符"):
        store.get(digest)
