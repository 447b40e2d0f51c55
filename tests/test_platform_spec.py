"""A platform is declared once, beside its reader, and every other part reads the declaration.

Adding one is one step: the test below declares a throwaway platform and registers its reader
the way a package ``probes/platforms/<code>/`` does, touching no other file — and the registry
import, the choice of reader, the default interval, the labels, the notices and a check all
know it. The other tests hold every shipped package to its declaration.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import anyio
import pytest

import probes.platforms as platforms
from monitor.alerting.route import notice_for
from monitor.alerting.settings import AlertingSettings
from monitor.registry.accounts import reader_for
from monitor.registry.validate import read_registry
from monitor.show.labels import PLATFORM
from monitor.store.models import Account, Finding
from probes.fetch import Tools
from probes.model import Observation, Outcome, Post, Target
from probes.platforms.registry import clock, register
from probes.platforms.spec import _PLATFORMS, PlatformSpec, SessionNeed, declare
from tests.conftest import make_settings

ROOT = Path(__file__).resolve().parents[1]
READERS = platforms.READERS  # every reader, loaded
NOW = datetime(2026, 12, 7, 1, 11, tzinfo=UTC)


@pytest.fixture
def weixin_channels() -> Iterator[PlatformSpec]:
    """视频号, declared and read as its own package would (removed afterwards)."""
    spec = declare(
        PlatformSpec(
            code="channels",
            name="微信视频号",
            aliases=("视频号",),
            interval_minutes=360,
            origins={"www": "https://channels.weixin.qq.com"},
            session=SessionNeed.required,
            readers=("channels",),
            rank=35,
        )
    )

    @register("channels")
    async def read_channels(target: Target, tools: Tools) -> Observation:
        post = Post(id="v1", published_at=clock(), title="政务动态")
        return Observation(target.account_id, "channels", target.url, clock(), Outcome.ok,
                           posts=[post])  # fmt: skip

    yield spec
    _PLATFORMS.pop("channels")
    READERS.pop("channels")


def test_a_platform_declared_once_is_known_everywhere(
    weixin_channels: PlatformSpec, tmp_path: Path
) -> None:
    (tmp_path / "units.csv").write_text("单位编码,单位名称\nqx,青溪县人民政府\n", "utf-8")
    (tmp_path / "accounts.csv").write_text(
        "账号编号,平台,账号名称,主办单位,平台账号ID\nqx-sph,视频号,青溪发布,qx,sph123\n", "utf-8"
    )
    registry = read_registry(
        [tmp_path / "units.csv", tmp_path / "accounts.csv"],
        known_rulesets={"national", "service"},
        known_readers=set(READERS),
    )
    (row,) = registry.accounts
    assert row.platform == "channels"  # its alias, in a registry sheet
    account = Account(id="qx-sph", platform="channels", name="青溪发布", owner_code="qx")
    assert reader_for(account) == "channels"
    assert make_settings(tmp_path).interval_minutes("channels") == 360
    assert PLATFORM["channels"] == "微信视频号"
    assert list(PLATFORM).index("channels") == list(PLATFORM).index("douyin") + 1  # by rank
    finding = Finding(id=1, account_id="qx-sph", kind="stale", severity="veto",
                      title="已 15 天未更新", opened_at=NOW, last_seen_at=NOW)  # fmt: skip
    notice = notice_for(AlertingSettings(), finding, account, None, "opened", NOW, rulesets={})
    assert notice.platform_label == "微信视频号"
    target = Target("qx-sph", "channels", "channels", url="https://channels.weixin.qq.com/x")
    obs = anyio.run(lambda: platforms.observe(target, Tools(http=None), now=NOW))  # type: ignore[arg-type]
    assert obs.outcome is Outcome.ok and obs.posts[0].title == "政务动态"


def test_a_code_is_declared_once() -> None:
    with pytest.raises(ValueError, match="already declared"):
        declare(PlatformSpec(code="weibo", name="另一个微博"))


@pytest.mark.parametrize("package", platforms.PACKAGES)
def test_every_platform_package_declares_itself_and_registers_its_reader(package: str) -> None:
    spec = platforms.PLATFORMS.get(package)
    assert spec is not None, f"probes/platforms/{package}/ declares no platform '{package}'"
    assert spec.reader in READERS, f"{package}: its reader '{spec.reader}' is not registered"
    init = ROOT / "probes" / "platforms" / package / "__init__.py"
    imported = {
        n.module
        for n in ast.walk(ast.parse(init.read_text("utf-8")))
        if isinstance(n, ast.ImportFrom) and n.module
    }
    # the declaration stays cheap: a listing or the registry loads no reader through it
    assert imported <= {"__future__", "importlib", "typing", "probes.platforms.spec"}, imported


def test_every_declared_origin_is_documented() -> None:
    doc = (ROOT / "docs" / "config.md").read_text("utf-8")
    for code, spec in platforms.PLATFORMS.items():
        for key, default in spec.origins.items():
            assert f"`{key}` (`{default}`" in doc, f"docs/config.md: {code} origin {key}"
