"""The accounts the period could not judge (无法判定), and why, in words.

An account under patrol none of whose looks in the period could give a verdict (the platform
did not show the list, the posts could not be dated, every fetch failed or was turned away)
is neither 合格 nor 不合格: it is listed apart with the reason its last look gave, the number
of looks, and that look as evidence (``snapshots.State``; definitions in docs/report.md).
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from monitor.report.model import UnjudgedRow
from monitor.report.snapshots import Acct, State, as_utc
from monitor.store.models import Snapshot, Unit

# what a failed look is called before its own words (the reader's ``detail``)
_FAILED = {"blocked": "被平台拦截", "error": "抓取失败", "unreadable": "无法读取内容"}


def reason(outcome: str, sight: str | None, detail: str, post_count: int) -> str:
    """Why a look could not be judged, as a supervisor reads it: the reader's own words where
    it gave them ("抖音未向未登录访客展示作品列表")."""
    detail = (detail or "").strip()
    if outcome == "ok":
        if sight == "undated":
            why = detail or f"读到 {post_count} 条内容，没有可用的发布时间"
            return f"无法判断更新时间（{why}）"
        # an ok look with no post, recorded before looks said what they saw (sight NULL)
        return "未看到带发布时间的内容（早期记录，未区分平台未展示与确无内容），无法判断更新时间"
    if outcome == "unreadable":
        return detail or _FAILED[outcome]
    head = _FAILED.get(outcome, outcome)
    return f"{head}：{detail}" if detail else head


def unjudged_rows(
    session: Session,
    states: dict[str, State],
    accts: dict[str, Acct],
    units: dict[str, Unit],
) -> list[UnjudgedRow]:
    """One row per account seen but not judged in the period, by unit, platform and id."""
    last = {a: st.last for a, st in states.items() if st.seen and not st.checked and st.last}
    looks: dict[int, tuple[str, str | None, str, int]] = {}
    ids = sorted(snap for snap, _ in last.values())
    for i in range(0, len(ids), 500):
        for id_, outcome, sight, detail, count in session.exec(
            select(
                col(Snapshot.id),
                col(Snapshot.outcome),
                col(Snapshot.sight),
                col(Snapshot.detail),
                col(Snapshot.post_count),
            ).where(col(Snapshot.id).in_(ids[i : i + 500]))
        ).all():
            looks[id_] = (outcome, sight, detail, count)
    rows = []
    for account_id, (snap_id, taken) in last.items():
        a = accts[account_id]
        outcome, sight, detail, count = looks.get(snap_id, ("error", None, "", 0))
        rows.append(
            UnjudgedRow(
                **a.named(units),
                reason=reason(outcome, sight, detail, count),
                looks=states[account_id].looks,
                last_at=as_utc(taken),
                snapshot_id=snap_id,
            )
        )
    rows.sort(key=lambda r: (r.owner_code, r.platform, r.account_id))
    return rows
