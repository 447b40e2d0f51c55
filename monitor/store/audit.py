"""The audit trail (等保 2.0 安全审计): who did what, when, from where, and whether it worked.

Every row is chained to the one before: its ``hash`` is SM3 (GB/T 32905, through OpenSSL's
``hashlib.new("sm3")``; SHA-256 where OpenSSL has no SM3, the algorithm named on each row)
over its own fields and the previous row's hash. ``verify`` walks the chain: a row changed
after it was written no longer matches its hash (or, rewritten with a new hash, breaks the
next row's link), a deleted row leaves a gap in ``seq``, and deleted last rows fall short of
the head (``audit_head``). Nothing in the code updates or deletes a row, and triggers refuse
both in the database (migration 0018); the head is the one row that changes.

Appending locks the head row (PostgreSQL: its row lock; SQLite: the write lock its UPDATE
takes), so rows get their ``seq`` one at a time on every node. ``record`` is the last write
of its transaction, so no other lock is ever waited for while the head is held; the row is
written with the action it records, or not at all. Each row is also logged (``audit``,
with its seq and hash): a copy outside the database, where journald keeps it.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
import structlog
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from monitor.store.security_tables import AuditHead, AuditLog

log = structlog.get_logger("xuncha.audit")

# what is recorded, in the words the console and the CLI show
ACTIONS = {
    "login": "登录",
    "logout": "退出登录",
    "user_add": "添加用户",
    "user_passwd": "修改密码",
    "user_role": "更改角色",
    "user_disable": "停用用户",
    "user_enable": "启用用户",
    "user_totp": "绑定动态口令",
    "user_totp_remove": "解绑动态口令",
    "user_sessions_end": "结束会话",
    "token_issue": "生成令牌",
    "token_revoke": "吊销令牌",
    "registry_import": "导入登记表",
    "config_reload": "重新加载配置",
    "silence_add": "新建静默",
    "silence_expire": "结束静默",
    "ack": "确认问题",
    "session_add": "保存登录会话",
    "session_remove": "删除登录会话",
    "rectify": "提交已整改",
    "review_confirm": "复核确认",
    "review_dismiss": "认定误报",
    "audit_export": "导出审计记录",
}
VIAS = {"web": "控制台", "api": "接口", "cli": "命令行", "daemon": "巡查服务"}
HEAD_ID = 1
MAX_PROBLEMS = 100  # listed by verify; more are counted


def chain_algo() -> str:
    """SM3 where this machine's OpenSSL offers it, else SHA-256."""
    try:
        hashlib.new("sm3")
    except ValueError:
        return "sha256"
    return "sm3"


@dataclass(frozen=True)
class Actor:
    """Who acts: a console user (``via`` web or api, their client's address), or whoever
    runs a command (``cli:<OS user>``, the host's name)."""

    name: str
    via: str
    address: str = ""


def cli_actor() -> Actor:
    """The operating system's user running ``xuncha``: the CLI has no login of its own (who
    may run it is the OS's to decide; docs/console.md)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a bare container)
        user = "?"
    return Actor(f"cli:{user}", "cli", socket.gethostname())


def _canonical(detail: dict[str, Any] | None) -> str:
    return json.dumps(detail or {}, ensure_ascii=False, sort_keys=True, default=str)


def row_hash(row: AuditLog) -> str:
    """``row.algo`` over the row's fields and ``prev_hash`` (ValueError: no such algorithm
    here)."""
    at = row.at.astimezone(UTC).isoformat(timespec="microseconds")
    fields = [
        row.seq, at, row.actor, row.via, row.action, bool(row.success), row.target,
        row.address, row.detail, row.algo, row.prev_hash,
    ]  # fmt: skip
    payload = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
    return hashlib.new(row.algo, payload.encode()).hexdigest()


def _ensure_head(session: Session) -> None:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(insert(AuditHead).values(id=HEAD_ID, seq=0, hash="").on_conflict_do_nothing())


def record(
    session: Session,
    actor: Actor,
    action: str,
    now: datetime,
    *,
    target: str = "",
    success: bool = True,
    detail: dict[str, Any] | None = None,
) -> AuditLog:
    """Append one row in the caller's transaction (its last write: see the module's note)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    _ensure_head(session)
    seq, prev = session.execute(
        sa.update(AuditHead)
        .where(col(AuditHead.id) == HEAD_ID)
        .values(seq=col(AuditHead.seq) + 1)
        .returning(col(AuditHead.seq), col(AuditHead.hash))
    ).one()
    row = AuditLog(
        seq=seq, at=now.astimezone(UTC), actor=actor.name[:100], via=actor.via[:16],
        action=action, success=success, target=target[:200], address=actor.address[:64],
        detail=_canonical(detail), algo=chain_algo(), prev_hash=prev, hash="",
    )  # fmt: skip
    row.hash = row_hash(row)
    session.execute(sa.insert(AuditLog).values(**row.model_dump()))
    session.execute(sa.update(AuditHead).where(col(AuditHead.id) == HEAD_ID).values(hash=row.hash))
    log.info(
        "audit", seq=seq, action=action, actor=row.actor, via=row.via, success=success,
        target=row.target, address=row.address, hash=row.hash,
    )  # fmt: skip
    return row


# -- reading ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filter:
    """Which rows: each given field narrows (``since`` inclusive, ``until`` exclusive)."""

    action: str | None = None
    actor: str | None = None
    success: bool | None = None
    since: datetime | None = None
    until: datetime | None = None

    def where(self) -> list[Any]:
        w: list[Any] = []
        if self.action:
            w.append(col(AuditLog.action) == self.action)
        if self.actor:
            w.append(col(AuditLog.actor) == self.actor)
        if self.success is not None:
            w.append(col(AuditLog.success) == self.success)
        if self.since is not None:
            w.append(col(AuditLog.at) >= self.since)
        if self.until is not None:
            w.append(col(AuditLog.at) < self.until)
        return w


def newest(session: Session, flt: Filter, *, limit: int = 100, offset: int = 0) -> list[AuditLog]:
    """The rows matching, newest first, ``offset`` of them skipped."""
    query = (
        select(AuditLog)
        .where(*flt.where())
        .order_by(col(AuditLog.seq).desc())
        .offset(offset)
        .limit(limit)
    )
    return list(session.exec(query).all())


def count(session: Session, flt: Filter) -> int:
    query = select(sa.func.count()).select_from(AuditLog).where(*flt.where())
    return int(session.exec(query).one())


def oldest_first(session: Session, flt: Filter, batch: int = 1000) -> Iterator[AuditLog]:
    """Every row matching, oldest first, a batch at a time (exports, verification)."""
    after = 0
    while True:
        query = (
            select(AuditLog)
            .where(*flt.where(), col(AuditLog.seq) > after)
            .order_by(col(AuditLog.seq))
            .limit(batch)
        )
        rows = list(session.exec(query).all())
        yield from rows
        if len(rows) < batch:
            return
        after = rows[-1].seq


def as_dict(row: AuditLog) -> dict[str, Any]:
    """A row for --json, the API and exports: every field, the detail parsed."""
    try:
        detail = json.loads(row.detail)
    except ValueError:
        detail = row.detail
    return {
        "seq": row.seq, "at": row.at, "actor": row.actor, "via": row.via,
        "action": row.action, "action_label": ACTIONS.get(row.action, row.action),
        "success": row.success, "target": row.target, "address": row.address,
        "detail": detail, "algo": row.algo, "prev_hash": row.prev_hash, "hash": row.hash,
    }  # fmt: skip


# -- verification --------------------------------------------------------------------------------


@dataclass
class Verdict:
    """What ``verify`` found: rows read, the head, and each problem (seq, in words)."""

    rows: int = 0
    last_seq: int = 0
    last_hash: str = ""
    algos: set[str] = field(default_factory=set)
    problems: list[tuple[int, str]] = field(default_factory=list)
    more_problems: int = 0

    @property
    def intact(self) -> bool:
        return not self.problems

    def problem(self, seq: int, text: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append((seq, text))
        else:
            self.more_problems += 1


def verify(session: Session) -> Verdict:
    """Walk the whole chain, oldest first, and compare its end with the head."""
    v = Verdict()
    expected, prev = 1, ""
    for row in oldest_first(session, Filter()):
        v.rows += 1
        v.algos.add(row.algo)
        if row.seq > expected:
            gap = (
                f"第 {expected} 条"
                if row.seq == expected + 1
                else (f"第 {expected}–{row.seq - 1} 条")
            )
            v.problem(expected, f"{gap}缺失（被删除）")
        elif row.prev_hash != prev:
            before = row.seq - 1
            v.problem(row.seq, f"与第 {before} 条的链接不符（第 {before} 条被改动或替换）")
        try:
            if row_hash(row) != row.hash:
                v.problem(row.seq, f"第 {row.seq} 条的内容与其哈希不符（被改动）")
        except ValueError:
            v.problem(row.seq, f"第 {row.seq} 条用 {row.algo} 记录，本机无此算法，无法校验")
        expected, prev = row.seq + 1, row.hash
        v.last_seq, v.last_hash = row.seq, row.hash
    head = session.get(AuditHead, HEAD_ID)
    if head is None:
        if v.rows:
            v.problem(v.last_seq, "链头记录缺失（audit_head 被删除）")
        return v
    if head.seq > v.last_seq:
        missing = (
            f"第 {v.last_seq + 1}–{head.seq} 条"
            if head.seq > v.last_seq + 1
            else (f"第 {head.seq} 条")
        )
        v.problem(v.last_seq + 1, f"{missing}缺失（末尾的记录被删除）")
    elif head.seq != v.last_seq or head.hash != v.last_hash:
        v.problem(v.last_seq, f"链头（第 {head.seq} 条）与最后一条记录不符")
    return v
