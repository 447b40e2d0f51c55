"""Self-watch: the patrol checks itself and tells ops when it is failing.

The complaint against change monitors is that a broken browser or a blocked site
goes unnoticed for weeks. Each check here is a yes/no with a reason; ops' channel
(``[alerts].ops_channels``) is told once when a problem starts and once when it
recovers. The state lives in ``service_state`` and the message in the outbox, in
one transaction, so a restart neither repeats an alert nor forgets a recovery,
and delivery is retried like every other message.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import structlog
from sqlalchemy import func, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from alerts.notice import Message
from monitor.alerting import direct
from monitor.alerting.settings import AlertingSettings
from monitor.config import SelfwatchConfig, Settings
from monitor.service import metrics
from monitor.store.engine import session_scope
from monitor.store.models import Account, Notification, ServiceState, Snapshot
from monitor.timefmt import parse, shown

log = structlog.get_logger("xuncha.selfwatch")

STATE_PREFIX = "selfwatch:"
NODE_LOCAL = {"browser", "disk"}  # judged per node; the rest are shared by all nodes


@dataclass
class CheckResult:
    key: str  # stable name: "browser", "database", "disk", "outbox", "blocked:<platform>"
    ok: bool
    detail: str = ""  # Chinese, for ops: what is wrong and what to do


# -- the checks -------------------------------------------------------------------------------


def browser_starts(executable: Path, timeout: float) -> tuple[bool, str]:
    """Launch the browser headless on a blank page; it must print a DOM and exit 0."""
    cmd = [
        str(executable), "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-dev-shm-usage", "--no-first-run", "--dump-dom", "about:blank",
    ]  # fmt: skip
    try:
        r = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
    except FileNotFoundError:
        return False, f"浏览器程序 {executable} 不存在，请安装 chromium 或修改 [browser].executable"
    except PermissionError:
        return False, f"浏览器程序 {executable} 无执行权限"
    except subprocess.TimeoutExpired:
        return False, f"浏览器 {executable} 在 {timeout:g} 秒内未能启动"
    except OSError as e:
        return False, f"浏览器 {executable} 无法启动: {e}"
    if r.returncode != 0 or b"<html" not in r.stdout.lower():
        err = r.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
        return False, f"浏览器 {executable} 启动失败（退出码 {r.returncode}）{err[0][:200]}"
    return True, ""


def check_browser(executable: Path, sw: SelfwatchConfig) -> CheckResult:
    ok, detail = browser_starts(executable, sw.browser_timeout_seconds)
    return CheckResult("browser", ok, detail)


def check_database(engine: Engine) -> CheckResult:
    try:
        with engine.begin() as conn:
            conn.execute(text("SELECT 1"))
            conn.execute(text("UPDATE service_state SET updated_at = updated_at WHERE key = 'x'"))
    except Exception as e:  # any driver error: the patrol cannot record evidence
        return CheckResult("database", False, f"数据库无法读写: {str(e)[:300]}")
    return CheckResult("database", True)


def check_disk(settings: Settings) -> CheckResult:
    where = settings.data_dir if settings.data_dir.exists() else Path("/")
    free_mb = shutil.disk_usage(where).free >> 20
    if free_mb < settings.selfwatch.min_free_mb:
        return CheckResult(
            "disk", False, f"数据目录 {where} 所在磁盘仅剩 {free_mb} MiB，请清理或扩容"
        )
    return CheckResult("disk", True)


def check_outbox(session: Session, sw: SelfwatchConfig, now: datetime) -> CheckResult:
    pending = session.exec(
        select(func.count())
        .select_from(Notification)
        .where(col(Notification.status).in_(["pending", "sending"]))
    ).one()
    overdue = session.exec(
        select(func.count())
        .select_from(Notification)
        .where(
            col(Notification.status) == "pending",
            col(Notification.due_at) < now - timedelta(minutes=sw.outbox_max_age_minutes),
        )
    ).one()
    if pending > sw.outbox_max_pending or overdue:
        return CheckResult(
            "outbox",
            False,
            f"待发消息积压 {pending} 条（其中超过 {sw.outbox_max_age_minutes} 分钟未发出 "
            f"{overdue} 条），请检查通知渠道与 `xuncha alerts outbox`",
        )
    return CheckResult("outbox", True)


def check_blocked(session: Session, sw: SelfwatchConfig) -> list[CheckResult]:
    """Per platform: is "blocked" the latest answer for most accounts recently seen?"""
    platforms = session.exec(select(Account.platform).distinct()).all()
    results = []
    for platform in platforms:
        rows = session.exec(
            select(Snapshot.account_id, Snapshot.outcome)
            .join(Account, col(Account.id) == col(Snapshot.account_id))
            .where(col(Account.platform) == platform)
            .order_by(col(Snapshot.id).desc())
            .limit(sw.blocked_window)
        ).all()
        latest: dict[str, str] = {}
        for account_id, outcome in rows:  # newest first: the first seen is the latest
            latest.setdefault(account_id, outcome)
        if not latest:
            continue
        blocked = sum(1 for o in latest.values() if o == "blocked")
        failing = len(latest) >= sw.blocked_min_accounts and blocked / len(latest) >= max(
            sw.blocked_ratio, 1e-9
        )
        detail = (
            f"平台 {platform} 最近 {len(latest)} 个账号中有 {blocked} 个被反爬拦截，"
            "请检查出口 IP、代理或访问频率（[platforms] / [http].proxy）"
            if failing
            else ""
        )
        results.append(CheckResult(f"blocked:{platform}", not failing, detail))
    return results


def run_checks(settings: Settings, engine: Engine, now: datetime) -> list[CheckResult]:
    """Every check, each one isolated: one failing check never hides the others."""
    results = [check_database(engine), check_disk(settings)]
    if results[0].ok:
        with Session(engine) as s:
            results.append(check_outbox(s, settings.selfwatch, now))
            results.extend(check_blocked(s, settings.selfwatch))
    if settings.selfwatch.check_browser:
        results.append(check_browser(settings.browser.executable, settings.selfwatch))
    return results


# -- telling ops once -------------------------------------------------------------------------

_TITLES = {
    "problem": "【巡查系统故障】{what}",
    "recovered": "【巡查系统恢复】{what}",
}
_WHAT = {"browser": "浏览器无法启动", "database": "数据库故障", "disk": "磁盘空间不足",
         "outbox": "通知积压"}  # fmt: skip


def _what(key: str) -> str:
    if key.startswith("blocked:"):
        return f"平台 {key.split(':', 1)[1]} 大面积拦截巡查"
    return _WHAT.get(key, key)


def _enqueue_ops(
    session: Session,
    settings: AlertingSettings,
    key: str,
    event: str,
    detail: str,
    since: str,
    now: datetime,
) -> int:
    title = _TITLES[event].format(what=_what(key))
    tz = settings.timezone
    if event == "problem":
        body = f"{detail}\n\n节点 {settings.node_name}，发现于 {shown(now, tz)}"
    else:
        began = shown(parse(since), tz) if parse(since) else "未知时间"
        body = f"{_what(key)} 已恢复（故障自 {began} 起）。节点 {settings.node_name}"
    message = Message(title=title, markdown=body, text=body, level="failure")
    return direct.to_ops(
        session,
        settings,
        event=f"ops_{event}",
        message=message,
        dedup_key=f"ops:{key}:{event}:{since}"[:180],
        now=now,
    )


def record(
    settings: Settings, engine: Engine, results: list[CheckResult], now: datetime
) -> list[str]:
    """Compare with the stored state; on a change, write state and ops message together.

    Returns the transitions, e.g. ``["browser:problem"]``.
    """
    transitions: list[str] = []
    told = AlertingSettings.of(settings)  # whom ops messages go to, and the node's name
    for r in results:
        metrics.SELFWATCH_PROBLEMS.labels(check=r.key).set(0 if r.ok else 1)
        key = STATE_PREFIX + r.key
        if r.key in NODE_LOCAL:  # another node's browser or disk is not this one's
            key += f"@{settings.node_name}"
        try:
            with session_scope(engine) as s:
                row = s.get(ServiceState, key)
                failing = bool(row and row.value.get("failing"))
                if failing == (not r.ok):
                    continue
                if not r.ok:
                    since = now.isoformat(timespec="seconds")
                    sent = _enqueue_ops(s, told, r.key, "problem", r.detail, since, now)
                    value = {"failing": True, "since": since, "detail": r.detail}
                    log.error("selfwatch_problem", check=r.key, detail=r.detail, told=sent)
                else:
                    since = str(row.value.get("since", "")) if row else ""
                    sent = _enqueue_ops(s, told, r.key, "recovered", "", since, now)
                    value = {"failing": False, "since": now.isoformat(timespec="seconds")}
                    log.info("selfwatch_recovered", check=r.key, told=sent)
                if row is None:
                    row = ServiceState(key=key, value=value, updated_at=now)
                else:
                    row.value, row.updated_at = value, now
                s.add(row)
                transitions.append(f"{r.key}:{'problem' if not r.ok else 'recovered'}")
        except Exception as e:  # the database itself is down: say it in the log, loudly
            log.error("selfwatch_record_failed", check=r.key, ok=r.ok, error=str(e)[:300])
    return transitions
