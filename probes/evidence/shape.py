"""How a typed evidence value is stored: the JSON dict findings have always held.

Each field is a key of that dict, named as stored. ``None`` is "not said" and left out, but a
key stored as ``null`` (an unknown a detector states outright: no certificate date, no
signer) is remembered in ``nulls`` and written back, so a stored dict reads and writes back
the same. An ``Item`` (one post, one sign of theft) also keeps the keys it does not model
(``extra``) for the console; a ``Part`` of a finding's evidence leaves those to ``Evidence``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any, ClassVar, Self

from probes.evidence.lines import Line, Run, line, listed, more

LOCAL = {"local": True}  # a field that is not a stored key


@dataclass(frozen=True, kw_only=True)
class Shape:
    nulls: frozenset[str] = field(default=frozenset(), metadata=LOCAL)

    @classmethod
    def stored_keys(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls) if not f.metadata.get("local"))

    @classmethod
    def read(cls, d: dict[str, Any], **local: Any) -> Self:
        nulls = frozenset(k for k in cls.stored_keys() if k in d and d[k] is None)
        return cls(**{k: d.get(k) for k in cls.stored_keys()}, nulls=nulls, **local)

    def to_dict(self) -> dict[str, Any]:
        out = {}
        for k in self.stored_keys():
            value = getattr(self, k)
            if value is not None or k in self.nulls:
                out[k] = value.to_dict() if isinstance(value, Shape) else _plain(value)
        return out

    def said(self, **values: Any) -> Self:
        """These values, stored even when None (an unknown stated, not a fact left out)."""
        return replace(self, **values, nulls=self.nulls | frozenset(values))


def _plain(value: Any) -> Any:
    if isinstance(value, list):
        return [v.to_dict() if isinstance(v, Shape) else v for v in value]
    return value


@dataclass(frozen=True, kw_only=True)
class Item(Shape):
    """One element of a list in the evidence; the keys it does not model ride along."""

    extra: dict[str, Any] = field(default_factory=dict, metadata=LOCAL)

    @classmethod
    def read(cls, d: dict[str, Any], **local: Any) -> Self:
        extra = {k: v for k, v in d.items() if k not in cls.stored_keys()}
        return super().read(d, extra=extra, **local)

    @classmethod
    def each(cls, values: object) -> list[Any]:
        """A stored list with its dicts read as items (anything else kept as it was)."""
        return [cls.read(v) if isinstance(v, dict) else v for v in values or []]  # type: ignore[attr-defined]

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), **self.extra}

    def get(self, key: str, default: Any = None) -> Any:
        """A stored key, modelled or not (the detectors' own readers ask by name)."""
        if key in self.stored_keys():
            value = getattr(self, key)
            return default if value is None and key not in self.nulls else value
        return self.extra.get(key, default)


@dataclass(frozen=True, kw_only=True)
class Part(Shape):
    """One shape of a finding's evidence, with its lines.

    ``claims``: whether a stored dict holds this shape (its keys are then its, and not counted
    as unknown); most shapes are there whenever one of their keys is."""

    ALWAYS: ClassVar[bool] = False  # reads its keys from every dict (they are its whatever)

    @classmethod
    def claims(cls, d: dict[str, Any]) -> bool:
        return cls.ALWAYS or any(k in d for k in cls.stored_keys())

    def lines(self) -> list[Line]:
        raise NotImplementedError


@dataclass(frozen=True, kw_only=True)
class Listing(Part):
    """A list of items (posts, questions) under ``KEY``: a header saying how many, a nested
    line for each the room lists, and how many it left out. Held only by a non-empty list
    of dicts; anything else under the key is not this shape."""

    KEY: ClassVar[str]
    HEADER: ClassVar[str]  # "涉及内容 {n} 条"

    @classmethod
    def claims(cls, d: dict[str, Any]) -> bool:
        items = d.get(cls.KEY)
        return isinstance(items, list) and bool(items) and all(isinstance(x, dict) for x in items)

    @classmethod
    def read(cls, d: dict[str, Any], **local: Any) -> Self:
        return cls(**{cls.KEY: [cls.item(x) for x in d[cls.KEY]]}, **local)

    @classmethod
    def item(cls, stored: dict[str, Any]) -> Item:
        raise NotImplementedError

    def runs(self, i: int, item: Any) -> list[Run]:
        raise NotImplementedError

    def lines(self) -> list[Line]:
        items = getattr(self, self.KEY) or []
        out = [line(self.HEADER.format(n=len(items)), listed("："))]
        out += [line(*self.runs(i, x), nested=True, rank=i) for i, x in enumerate(items, 1)]
        return [*out, more(len(items))]
