"""Personal data in posts (隐私泄露): resident ID numbers, mobile numbers and bank cards,
published unmasked.

Each kind of number has its own proof, so a number that only looks like one is not accused:

- an 18-digit resident ID (GB 11643) must carry its check character, a real birth date not
  after the post and a province code that exists — an order number of 18 digits fails the
  checksum ten times in eleven, and a masked ``5201**********1234`` is no number at all;
- a mobile number (``1[3-9]`` + 9 digits) is personal only beside words about a person
  (姓名, 身份证, 住址, 户主 …) and not right after a service word (热线, 咨询电话 …): a unit's
  hotline, 12345 or ``0851-12345`` is what it should publish; the numbers that follow a
  person's within :data:`RUN_GAP` characters, in the same sentence, are the next rows of the
  same list (a table of ten under one 姓名/联系电话 header: every row is named, not two);
- a bank card (16–19 digits, BIN 62/4/5) must pass Luhn and sit beside card or personal
  words, and not beside words of a public account (对公, 捐款 …).

The context words are data (``probes/data/content/privacy.toml``). Every pattern is linear:
fixed-width groups, no two quantifiers over the same characters, context windows bounded.
The evidence masks the number it quotes: an alert must not spread what it reports.
"""

from __future__ import annotations

import re
import tomllib
from bisect import bisect_left
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data" / "content"

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
#: GB/T 2260 province codes (the first two digits of an ID)
_GB2260 = "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63"
PROVINCES = frozenset([*_GB2260.split(), "64", "65", "71", "81", "82", "83", "91"])
BEFORE, AFTER, NEAR = 60, 30, 12  # context windows, in characters
RUN_GAP = 60  # a number this close after a person's number is the next row of the same list

_ID = re.compile(
    r"(?<![0-9A-Za-z])[1-9][0-9]{5}(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])"
    r"[0-9]{3}[0-9Xx](?![0-9A-Za-z])"
)
# a sentence's end (a form's fields are apart by ；, a list's rows by line breaks: not ends)
_SENTENCE = re.compile(r"[。！？!?]")
_LAST_END = re.compile(r"[。！？!?](?!.*[。！？!?])", re.S)  # the last one in a range
_MOBILE = re.compile(r"(?:(?<=\+86)|(?<![0-9]))1[3-9][0-9][- ]?[0-9]{4}[- ]?[0-9]{4}(?![0-9])")
_CARD = re.compile(
    r"(?<![0-9])(?:62|4[0-9]|5[1-5])[0-9]{2}(?:[- ]?[0-9]{4}){3}(?:[- ]?[0-9]{1,3})?(?![0-9])"
)


@dataclass(frozen=True)
class Words:
    personal: tuple[str, ...]
    service: tuple[str, ...]
    card: tuple[str, ...]
    card_public: tuple[str, ...]
    not_personal: tuple[str, ...]


def load_words(path: Path | None = None) -> Words:
    data = tomllib.loads((path or DATA / "privacy.toml").read_text(encoding="utf-8"))
    return Words(*(tuple(data.get(k, ())) for k in Words.__dataclass_fields__))


@cache
def default_words() -> Words:
    return load_words()


@dataclass(frozen=True)
class Leak:
    rule: str  # privacy.id_card, privacy.mobile, privacy.bank_card
    start: int
    end: int
    masked: str  # the number as it may be shown
    what: str  # 身份证号, 手机号, 银行卡号


def id_checksum_ok(number: str) -> bool:
    """GB 11643: the 18th character is the check of the weighted sum of the first 17."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    total = sum(int(c) * w for c, w in zip(number[:17], ID_WEIGHTS, strict=True))
    return ID_CHECK[total % 11] == number[17].upper()


def id_birth(number: str) -> date | None:
    try:
        return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:  # 0229 of a common year, 0431 ...
        return None


def plausible_id(number: str, on: date) -> bool:
    """A real resident ID: known province, a birth date that exists and is not after ``on``
    (nor more than 120 years before it), and its check character."""
    birth = id_birth(number)
    return (
        number[:2] in PROVINCES
        and birth is not None
        and on.year - 120 <= birth.year
        and birth <= on
        and id_checksum_ok(number)
    )


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _near(text: str, start: int, end: int, words: tuple[str, ...], before: int, after: int) -> bool:
    window = text[max(0, start - before) : start] + "\0" + text[end : end + after]
    return any(w in window for w in words)


def _in_sentence(text: str, start: int, end: int, words: tuple[str, ...]) -> bool:
    """Any of ``words`` within BEFORE/AFTER characters, not past the sentence's end: the
    户主 of one sentence does not make the next sentence's 咨询电话 a person's."""
    lo, hi = max(0, start - BEFORE), min(len(text), end + AFTER)
    if m := _LAST_END.search(text, lo, start):
        lo = m.end()
    if m := _SENTENCE.search(text, end, hi):
        hi = m.start()
    window = text[lo:start] + "\0" + text[end:hi]
    return any(w in window for w in words)


def _overlaps(spans: list[tuple[int, int]], s: int, e: int) -> bool:
    """``spans`` sorted and disjoint (one finditer's): the one starting last before ``e``
    is the only one that can overlap — a lookup, not a scan (a text may hold thousands)."""
    i = bisect_left(spans, (e,)) - 1
    return i >= 0 and spans[i][1] > s


def mask(digits: str, head: int, tail: int) -> str:
    return digits[:head] + "*" * (len(digits) - head - tail) + digits[len(digits) - tail :]


def find_leaks(text: str, on: date, words: Words | None = None) -> list[Leak]:
    """Every unmasked personal number in ``text`` (posted on ``on``), in text order."""
    w = words or default_words()
    out: list[Leak] = []
    ids: list[tuple[int, int]] = []  # spans of ID-shaped numbers, valid or not
    cards: list[tuple[int, int]] = []  # of card-shaped ones
    for m in _ID.finditer(text):
        ids.append(m.span())
        number = m.group(0)
        if not plausible_id(number, on) or _near(text, *m.span(), w.not_personal, NEAR, 0):
            continue
        out.append(Leak("privacy.id_card", *m.span(), mask(number.upper(), 6, 4), "身份证号"))
    for m in _CARD.finditer(text):
        s, e = m.span()
        if _overlaps(ids, s, e):
            continue  # an ID-shaped number is judged as an ID, never as a card
        cards.append((s, e))
        digits = re.sub(r"[- ]", "", m.group(0))
        if not 16 <= len(digits) <= 19 or not luhn_ok(digits):
            continue
        if _near(text, s, e, w.not_personal, NEAR, 0):
            continue
        if _near(text, s, e, w.card_public, BEFORE, AFTER):
            continue
        if not _near(text, s, e, w.card + w.personal, BEFORE, AFTER):
            continue
        out.append(Leak("privacy.bank_card", s, e, mask(digits, 6, 4), "银行卡号"))
    run_end = -1  # where the last person's number ended: a table's rows follow its header
    for m in _MOBILE.finditer(text):
        s, e = m.span()
        if _overlaps(ids, s, e) or _overlaps(cards, s, e):
            continue  # digits of a longer number spaced in groups
        if _near(text, s, e, w.service, NEAR, 0) or _near(text, s, e, w.not_personal, NEAR, 0):
            continue
        gap = s - run_end
        in_run = run_end >= 0 and gap <= RUN_GAP and not _SENTENCE.search(text, run_end, s)
        if not in_run and not _in_sentence(text, s, e, w.personal):
            continue
        run_end = e
        digits = re.sub(r"[- ]", "", m.group(0))
        out.append(Leak("privacy.mobile", s, e, mask(digits, 3, 4), "手机号"))
    out.sort(key=lambda x: x.start)
    return out
