"""The pages people browse: the overview, the accounts list, an account, the findings list.

Lists keep their whole state (filters, sort, page) in the query string, and every link they
make carries it (``monitor.web.paging``). Every handler starts from the asker's scope.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from monitor.registry.accounts import ruleset_for
from monitor.show.labels import CATEGORY, KIND, PLATFORM, SEVERITY, STATUS
from monitor.store import history
from monitor.store.models import Unit
from monitor.web import data
from monitor.web.chart import Pair, Series, bar_chart, daily_chart, pair
from monitor.web.deps import DB, Cache, NotFound, Now, PageUser, Stats, XApp
from monitor.web.ordering import sorted_tables
from monitor.web.overview import Overview, overview
from monitor.web.pages import render
from monitor.web.paging import pager, sort_links
from monitor.web.roster import (
    ACCOUNT_SORTS,
    HEALTH,
    AccountFilter,
    count_accounts,
    list_accounts,
    rows_for,
)
from monitor.web.trends import TREND_DAYS
from probes.checks.kinds import KINDS

router = APIRouter(include_in_schema=False)

FINDINGS_PER_PAGE = 100  # a page a person reads; the total is always shown
ACCOUNTS_PER_PAGE = 50
HEALTH_NAMES = {"failing": "问题账号", "risk": "有预警", "patrol": "巡查异常", "ok": "无未解决问题"}
STATUS_NAMES = {"active": "在用", "closed": "已关停", "all": "全部"}


def _charts(ov: Overview) -> tuple[Pair, Pair | None]:
    days = ov.problems.days
    layers = [Series(SEVERITY[s], f"sev-{s}", v) for s, v in ov.problems.series.items()]
    problems = pair(
        lambda w, h: bar_chart(
            days, layers, f"未解决问题（近 {TREND_DAYS} 天，每日终了时）", unit="个",
            caption="按级别叠加；不含提示，不含巡查异常（我方抓取的问题）。", width=w, height=h,
        )
    )  # fmt: skip
    ups = ov.updates.value
    if ups is None:
        return problems, None
    series = list(zip(ups.days, ups.series["updates"], strict=True))
    updates = pair(
        lambda w, h: daily_chart(
            series, f"每日更新（近 {TREND_DAYS} 天）", unit="次", width=w, height=h,
            caption="巡查所见各账号最新发布的变化，按发布时间计；两次巡查之间的多条发布计为一次。",
        )
    )  # fmt: skip
    return problems, updates


@router.get("/")
def overview_page(
    request: Request,
    session: DB,
    user: PageUser,
    now: Now,
    xapp: XApp,
    stats: Stats,
    rates: str = "",
    units: str = "",
    platforms: str = "",
) -> Response:
    """``rates``, ``units``, ``platforms``: the column each table is sorted by (links, no
    script: on a phone each row is a card and the links above the cards sort them)."""
    ov = overview(session, user, xapp, now, stats)
    problems_chart, updates_chart = _charts(ov)
    order = sorted_tables(ov, rates, units, platforms)
    return render(
        request, "overview.html", user, ov=ov, severities=data.SEVERITY_ORDER, now=now,
        problems_chart=problems_chart, updates_chart=updates_chart, order=order,
    )  # fmt: skip


# -- accounts ---------------------------------------------------------------------------------


@router.get("/accounts")
def accounts_page(
    request: Request,
    session: DB,
    user: PageUser,
    now: Now,
    unit: str = "",
    platform: str = "",
    status: str = "active",
    health: str = "",
    q: str = "",
    sort: str = "name",
    desc: bool = False,
    page: Annotated[int, Query(ge=1)] = 1,
) -> Response:
    sort = sort if sort in ACCOUNT_SORTS else "name"
    which = AccountFilter(
        unit or None, platform or None, status if status in STATUS_NAMES else "active",
        health if health in HEALTH else None, q.strip()[:100],
    )  # fmt: skip
    params = {"unit": unit, "platform": platform, "status": which.status,
              "health": which.health or "", "q": which.q}  # fmt: skip
    sorting = {"sort": sort, "desc": "1" if desc else ""}
    total = count_accounts(session, user, which)
    pg = pager("/accounts", {**params, **sorting}, total, page, ACCOUNTS_PER_PAGE)
    rows = list_accounts(
        session, user, which, sort=sort, desc=desc, limit=pg.size, offset=pg.offset
    )
    return render(
        request, "accounts.html", user, rows=rows, pg=pg, now=now,
        units=data.unit_options(session, user), platforms=data.platforms_of(session, user),
        which=which, unit=unit, health_names=HEALTH_NAMES, status_names=STATUS_NAMES,
        heads=sort_links("/accounts", params, sort, desc, ACCOUNT_SORTS), sort=sort, desc=desc,
    )  # fmt: skip


@router.get("/accounts/{account_id}")
def account_page(
    request: Request,
    session: DB,
    user: PageUser,
    now: Now,
    xapp: XApp,
    cache: Cache,
    account_id: str,
    before: int | None = None,
) -> Response:
    account = data.get_account(session, user, account_id)
    if account is None:
        raise NotFound
    unit = session.get(Unit, account.owner_code)
    snapshots = history.account_history(session, account.id, before_id=before, limit=50)
    timeline = data.timeline(session, xapp, cache, account.id, now, 90)
    last30 = sum(n for _, n in timeline[-30:])
    chart = pair(
        lambda w, h: daily_chart(
            timeline, "发布数量（近 90 天，每日）", width=w, height=h,
            caption="按快照中看到的内容统计，每条只计一次；置顶内容按其发布日计。",
        ),
        720, 200,
    )  # fmt: skip
    changes = data.profile_changes(session, cache, account.id, 30)
    which = data.FindingFilter(status="all", account=account.id)
    findings = data.list_findings(session, user, which, limit=FINDINGS_PER_PAGE)
    findings_total = data.count_findings(session, user, which) if findings else 0
    posts_from, posts = data.latest_posts(session, account.id)
    health = rows_for(session, [account.id])
    return render(
        request, "account.html", user, account=account, unit=unit, snapshots=snapshots,
        unjudged=health[0].unjudged if health else "",
        chart=chart, last30=last30, changes=changes, findings=findings,
        findings_total=findings_total, ruleset=ruleset_for(account), posts=posts,
        posts_from=posts_from, now=now,
        older=snapshots[-1].id if len(snapshots) == 50 else None, before=before,
    )  # fmt: skip


# -- findings ---------------------------------------------------------------------------------


@router.get("/findings")
def findings_page(
    request: Request,
    session: DB,
    user: PageUser,
    now: Now,
    status: str = "open",
    unit: str = "",
    severity: str = "",
    platform: str = "",
    kind: str = "",
    category: str = "",
    q: str = "",
    account: str = "",
    sort: str = "urgent",
    desc: bool = False,
    done: int | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
) -> Response:
    status = status if status in ("open", "resolved", "all") else "open"
    sort = sort if sort in data.FINDING_SORTS else "urgent"
    which = data.FindingFilter(
        status, unit or None, account or None, severity or None, platform or None,
        kind or None, category or None, q.strip()[:100],
    )  # fmt: skip
    params = {"status": status, "unit": unit, "severity": severity, "platform": platform,
              "kind": kind, "category": category, "q": which.q, "account": account}  # fmt: skip
    sorting = {"sort": sort, "desc": "1" if desc else ""}
    total = data.count_findings(session, user, which)
    pg = pager("/findings", {**params, **sorting}, total, page, FINDINGS_PER_PAGE)
    rows = data.list_findings(
        session, user, which, limit=pg.size, offset=pg.offset, sort=sort, desc=desc
    )
    kinds_by_category: dict[str, list[tuple[str, str]]] = {}
    for code, k in KINDS.items():
        kinds_by_category.setdefault(k.category, []).append((code, KIND[code]))
    return render(
        request, "findings.html", user, rows=rows, pg=pg, which=which, now=now, done=done,
        units=data.unit_options(session, user), severities=data.severity_names(),
        platforms=data.platforms_of(session, user), kinds=kinds_by_category,
        categories=CATEGORY, platform_names=PLATFORM, status_names=STATUS,
        heads=sort_links("/findings", params, sort, desc, data.FINDING_SORTS), sort=sort,
        desc=desc, params=params,
    )  # fmt: skip
