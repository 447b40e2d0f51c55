"""Reading one ZIP member into memory without letting a ZIP bomb inflate it.

The central directory's ``file_size`` is what the archive *claims*; a hostile APK can claim
1000 bytes and inflate to gigabytes. So the claim is checked first (cheap refusal of honest
giants) and the inflation is stopped one byte past the cap whatever was claimed. The APK
reader and the v1 (JAR) verifier both read members through here, each naming the failure in
its own words (:class:`MemberTooLarge` carries what they need).
"""

from __future__ import annotations

import zipfile

_READ = 256 * 1024


class MemberTooLarge(Exception):
    """Member ``name`` would inflate beyond ``cap`` bytes.

    ``declared`` is the size its header claims when that claim alone was too large; None
    when the claim was small and inflating it passed the cap (the archive lied).
    """

    def __init__(self, name: str, cap: int, declared: int | None) -> None:
        super().__init__(f"{name} exceeds {cap} bytes")
        self.name = name
        self.cap = cap
        self.declared = declared


def read_capped(zf: zipfile.ZipFile, name: str, cap: int) -> bytes:
    """The inflated bytes of member ``name``; :class:`MemberTooLarge` past ``cap`` bytes.

    Holds at most ``cap + 1`` bytes. Errors of the archive itself (``BadZipFile``,
    ``zlib.error``, ``EOFError``, ``RuntimeError`` for an encrypted member, ``KeyError`` for
    a missing one) are the caller's to name.
    """
    zi = zf.getinfo(name)
    if zi.file_size > cap:
        raise MemberTooLarge(name, cap, zi.file_size)
    out = bytearray()
    with zf.open(zi) as member:
        while chunk := member.read(min(_READ, cap + 1 - len(out))):
            out += chunk
            if len(out) > cap:
                raise MemberTooLarge(name, cap, None)
    return bytes(out)
