"""Bounded decompression of HTTP bodies: a gzip/deflate bomb costs no more than the size cap."""

from __future__ import annotations

import zlib

from probes.fetch.errors import FetchError


class BoundedDecoder:
    """Inflates gzip/deflate without producing more than the room left (zip bombs)."""

    def __init__(self, coding: str, url: str) -> None:
        if coding not in ("gzip", "x-gzip", "deflate", "identity", ""):
            raise FetchError("protocol", f"服务器使用了不支持的压缩编码 '{coding}'", url)
        self.coding = "gzip" if coding == "x-gzip" else coding
        self.url = url
        self._d = zlib.decompressobj(zlib.MAX_WBITS | 16) if self.coding == "gzip" else None
        self._head = b""  # deflate: first bytes, until the flavour is known

    def feed(self, data: bytes, room: int) -> bytes:
        """Return at most ``room + 1`` bytes (one more than fits tells the caller to stop)."""
        if self.coding in ("identity", ""):
            return data[: room + 1]
        if self._d is None:
            # "deflate" comes zlib-wrapped (the RFC) or raw (old IIS): the header tells
            self._head += data
            if len(self._head) < 2:
                return b""
            b0, b1 = self._head[0], self._head[1]
            wrapped = (b0 & 0x0F) == 8 and ((b0 << 8) | b1) % 31 == 0
            self._d = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
            data, self._head = self._head, b""
        out = bytearray()
        pending = data
        while pending and len(out) <= room:
            try:
                out += self._d.decompress(pending, room + 1 - len(out))
            except zlib.error as e:
                raise FetchError("protocol", f"压缩数据损坏（{e}）", self.url) from e
            if self._d.eof:
                # another gzip member may follow; anything else after the end is ignored
                rest = self._d.unused_data
                if self.coding == "gzip" and rest.startswith(b"\x1f\x8b"):
                    self._d = zlib.decompressobj(zlib.MAX_WBITS | 16)
                    pending = rest
                    continue
                break
            pending = self._d.unconsumed_tail
        return bytes(out)

    def flush(self) -> bytes:
        # feed() drained unconsumed input, so this returns only what zlib still buffers
        return self._d.flush() if self._d is not None and not self._d.eof else b""
