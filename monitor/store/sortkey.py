"""Names in the order people look them up: by pinyin (安顺 before 北京 before 重庆), not by
code point, where 黔 (U+9ED4) comes after every common surname.

The key is kept with the row (``Account.name_key``, ``Unit.name_key``), written whenever a
name is, so a list of 100 000 accounts sorts in the database on an index. It is made a
character at a time (a character's pinyin from pypinyin's table, its first reading, with the
place names whose first character reads otherwise set right): phrase segmentation would cost
0.4 ms a name, the whole of an import's budget.
"""

from __future__ import annotations

from functools import lru_cache

__all__ = ["pinyin_key"]

# first characters of place and unit names whose common reading is not the table's first
_PLACE_READINGS = {"重庆": "chong2", "长沙": "chang2", "长春": "chang2", "长治": "chang2",
                   "六安": "lu4", "蚌埠": "beng4", "厦门": "xia4", "乐山": "le4"}  # fmt: skip


@lru_cache(maxsize=32768)
def _syllable(ch: str) -> str:
    from pypinyin.constants import Style
    from pypinyin.pinyin_dict import pinyin_dict
    from pypinyin.style import convert

    reading = pinyin_dict.get(ord(ch))
    if not reading:
        return ch.lower()
    return str(convert(reading.split(",")[0], Style.TONE3, strict=False, default=ch))


def pinyin_key(name: str) -> str:
    """``安顺市`` -> ``an1 shun4 shi4``; other characters as they are, lowercased."""
    out = []
    for i, ch in enumerate(name):
        fixed = _PLACE_READINGS.get(name[i : i + 2])
        out.append(fixed or _syllable(ch))
    return " ".join(out)[:1000]
