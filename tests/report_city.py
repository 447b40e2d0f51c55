"""A city's two quarters for the 通报 tests: a city office, a department and three counties
(one with a department of its own), sixteen accounts on seven platforms, the kinds of
problems inspections find, and three accounts the patrol could not judge in Q4 (a fetch
that failed, a list Douyin did not show, a site whose posts carry no dates), every time
fixed. ``python -m tests.report_city DIR`` writes the
city into a fresh SQLite database under DIR and prints the config path, to look at the
report by hand (docs/report.md).
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor.app import App
from monitor.store.engine import session_scope
from monitor.store.models import Finding, FindingEvent
from probes.checks.kinds import fix_deadline
from tests.conftest import add_account, add_unit
from tests.test_history import add_snap, post

CITY = "ql"
AFTER_Q4 = datetime(2027, 1, 8, 2, tzinfo=UTC)  # 2027-01-08 10:00 in Beijing
RULES = {
    "commercial": "commercial",
    "privacy": "",
    "wording": "",
    "theft": "theft.score",
    "gone": "",
    "app_download_unreachable": "install.download",
    "roster_error": "",
}


def at(month: int, day: int, hour: int = 2, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


def finding(
    app: App,
    account: str,
    kind: str,
    severity: str,
    opened: datetime,
    *,
    resolved: datetime | None = None,
    snapshot: int | None = None,
) -> int:
    """A finding as the daemon writes it: its deadline the kind's window, its rule cited."""
    with session_scope(app.engine) as s:
        f = Finding(
            account_id=account,
            kind=kind,
            severity=severity,
            status="resolved" if resolved else "open",
            title=kind,
            rule=RULES.get(kind, ""),
            deadline=fix_deadline(kind, opened),
            opened_at=opened,
            updated_at=resolved or opened,
            resolved_at=resolved,
            first_snapshot_id=snapshot,
            last_snapshot_id=snapshot,
        )
        s.add(f)
        s.flush()
        assert f.id is not None
        s.add(
            FindingEvent(finding_id=f.id, at=opened, event="opened", detail={"severity": severity})
        )
        if resolved:
            s.add(FindingEvent(finding_id=f.id, at=resolved, event="resolved", snapshot_id=None))
        return f.id


def weekly(app: App, account: str, start: datetime, weeks: int) -> int:
    """An account that posts every week, checked the day after: never late. The last id."""
    last = 0
    for w in range(weeks):
        day = start + timedelta(days=7 * w)
        last = add_snap(app, account, day + timedelta(days=1), posts=[post(f"{account}-{w}", day)])
    return last


def build_city(app: App) -> App:
    add_unit(app, CITY, "黔岭市人民政府办公室")
    add_unit(app, "ql-jy", "黔岭市教育局", parent=CITY)
    add_unit(app, "qx", "青溪县人民政府办公室", parent=CITY)
    add_unit(app, "qx-ws", "青溪县卫生健康局", parent="qx")
    add_unit(app, "yl", "云岭县人民政府办公室", parent=CITY)
    add_unit(app, "hx", "花溪区人民政府办公室", parent=CITY)
    accounts = [
        ("ql-wx", CITY, "wechat", "黔岭发布"),
        ("ql-wb", CITY, "weibo", "黔岭发布"),
        ("ql-dy", CITY, "douyin", "黔岭政务"),
        ("jy-wx", "ql-jy", "wechat", "黔岭教育"),
        ("jy-tt", "ql-jy", "toutiao", "黔岭教育发布"),
        ("qx-wx", "qx", "wechat", "青溪县人民政府"),
        ("qx-wb", "qx", "weibo", "青溪发布"),
        ("ws-wx", "qx-ws", "wechat", "青溪健康"),
        ("yl-wx", "yl", "wechat", "云岭发布"),
        ("yl-tt", "yl", "toutiao", "云岭政务"),
        ("yl-app", "yl", "app", "云岭通"),
        ("hx-wx", "hx", "wechat", "花溪发布"),
        ("hx-dy", "hx", "douyin", "花溪政务"),
        ("hx-wb", "hx", "weibo", "花溪区政府"),
    ]
    for id_, owner, platform, name in accounts:
        add_account(app, id_, owner, f"http://127.0.0.1/{id_}", name=name, platform=platform)

    # Q3: every account posts weekly except 云岭政务, silent from August
    for id_, *_ in accounts:
        if id_ != "yl-tt":
            weekly(app, id_, at(6, 24), 14)
    add_snap(app, "yl-tt", at(7, 2), posts=[post("yl-tt-1", at(7, 31))])
    add_snap(app, "yl-tt", at(9, 1), posts=[post("yl-tt-1", at(7, 31))])  # 32 days: a veto

    # Q4: the fine ones go on posting
    for id_ in ("ql-wx", "ql-wb", "jy-wx", "qx-wb", "hx-wx", "hx-wb", "yl-app"):
        weekly(app, id_, at(9, 30), 13)
    # silent too long: 青溪县人民政府 from 11-19 (checked 12-04: 15 days), 青溪健康 from
    # 10-20, 云岭政务 still silent since July; 花溪政务 posted again after a 20-day gap
    for id_, last_post in (("qx-wx", at(11, 19)), ("ws-wx", at(10, 20))):
        weekly(app, id_, at(9, 30), 3)
        add_snap(app, id_, at(12, 4, 8), posts=[post(f"{id_}-last", last_post)])
    add_snap(app, "yl-tt", at(10, 9), posts=[post("yl-tt-1", at(7, 31))])
    add_snap(app, "hx-dy", at(10, 2), posts=[post("hx-dy-a", at(10, 1))])
    add_snap(app, "hx-dy", at(10, 22), posts=[post("hx-dy-a", at(10, 1))])
    add_snap(app, "hx-dy", at(10, 24), posts=[post("hx-dy-b", at(10, 23))])
    # 黔岭政务 (抖音) could not be read at all in Q4
    add_snap(app, "ql-dy", at(10, 5), outcome="error", detail="服务器内部错误（HTTP 503）")
    # new in Q4 and never judged: Douyin showed 青溪文旅's profile (1,288 works) but not the
    # list, every week; 花溪区人民政府网站's news list shows no dates
    add_account(app, "qx-dy", "qx", "http://127.0.0.1/qx-dy", name="青溪文旅", platform="douyin")
    add_account(app, "hx-web", "hx", "http://127.0.0.1/hx-web", name="花溪区人民政府网站",
                platform="website")  # fmt: skip
    for w in range(13):
        add_snap(app, "qx-dy", at(10, 1) + timedelta(days=7 * w), outcome="unreadable",
                 detail="抖音未向未登录访客展示作品列表")  # fmt: skip
    undated = [{"id": f"hx-web-{i}", "published_at": None, "title": "政务公开"} for i in range(2)]
    for w in range(13):
        add_snap(app, "hx-web", at(10, 2) + timedelta(days=7 * w), posts=undated, sight="undated")

    # problems the detectors found in Q4
    ads = weekly(app, "jy-tt", at(9, 30), 5)
    finding(app, "jy-tt", "commercial", "high", at(10, 30, 3), snapshot=ads)
    finding(app, "qx-wb", "privacy", "high", at(11, 3, 6), resolved=at(11, 3, 20))
    finding(app, "hx-wb", "wording", "warning", at(12, 1, 1))
    finding(app, "hx-wx", "roster_error", "high", at(12, 28, 2))  # due after the quarter
    finding(app, "ql-wb", "theft", "veto", at(11, 15, 4))
    finding(app, "yl-app", "app_download_unreachable", "high", at(12, 10, 5))
    finding(app, "hx-dy", "commercial", "high", at(10, 22, 4), resolved=at(10, 24, 4))
    # an old finding whose problem is fixed after the quarter: still open when it ended
    finding(app, "jy-wx", "wording", "warning", at(12, 20, 2), resolved=at(1, 3, 2, 2027))
    return app


def main(folder: str) -> None:  # pragma: no cover - by hand
    from tests.conftest import make_settings, open_app

    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    app = open_app(make_settings(root))
    build_city(app)
    app.close()
    cfg = root / "xuncha.toml"
    cfg.write_text(f'data_dir = "{root}"\n[report]\nissuing_office = "黔岭市人民政府办公室"\n'
                   'document_number = "黔岭府办通〔{year}〕{seq}号"\n'
                   'recipients = "各县（区）人民政府办公室，市政府各部门"\n'
                   'copy_to = "市委网信办，市政务服务中心"\n')  # fmt: skip
    print(cfg)


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1])
