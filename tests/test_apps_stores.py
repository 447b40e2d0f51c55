"""App-store presence against local stand-ins answering in the stores' shapes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest
from localserver import LocalServer, Reply, Request

from probes.apps.stores import DEFAULT_ORIGINS, check_stores, make_client
from probes.model import StorePresence, Target

PKG = "cn.gov.example.zwfw"
JSON = {"Content-Type": "application/json; charset=utf-8"}

ITUNES_FOUND = {
    "resultCount": 1,
    "results": [
        {
            "trackId": 1234567890,
            "trackName": "示例政务",
            "bundleId": PKG,
            "version": "3.0.2",
            "currentVersionReleaseDate": "2025-10-09T02:11:33Z",
            "sellerName": "Example Municipal Big Data Bureau",
        }
    ],
}
YYB_FOUND = {
    "ret": 0,
    "app_detail_records": {
        PKG: {
            "app_info": {
                "name": "示例政务",
                "pkg_name": PKG,
                "version_name": "3.0.2",
                "version_code": 302,
                "apk_publish_time": 1760000000,
            }
        }
    },
}
XIAOMI_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8">
<title>示例政务-小米应用商店</title></head><body>
<div class="intro-titles"><p>示例市大数据局</p><h3>示例政务</h3></div>
<div class="details preventDefault"><ul class=" cf"><li>软件大小:</li><li>38.2 M</li>
<li>版本号：</li><li>3.0.2</li><li>更新时间：</li><li>2025-10-09</li><li>包名：</li>
<li>cn.gov.example.zwfw</li><li>appId：</li><li>1234567</li></ul></div></body></html>"""
VIVO_FOUND = {
    "id": 3456789,
    "title_zh": "示例政务",
    "package_name": PKG,
    "version_name": "3.0.2",
    "version_code": 302,
    "upload_time": "2025-10-09 10:12",
}


def itunes(req: Request) -> Reply:
    if "country=cn" not in req.query:  # without it the US store answers: nothing
        return Reply(body=json.dumps({"resultCount": 0, "results": []}), headers=JSON)
    found = "id=1234567890" in req.query or f"bundleId={PKG}" in req.query
    body = ITUNES_FOUND if found else {"resultCount": 0, "results": []}
    return Reply(body=json.dumps(body), headers=JSON)


def huawei(req: Request) -> Reply:
    if req.path == "/appdl/C100200300":
        loc = f"https://appdl-1-drcn.dbankcdn.com/dl/appdl/application/apk/ab/{PKG}.2510091030.apk?maple=0&distOpEntity=HWSW"
        return Reply.redirect(loc)
    return Reply(200, "<html>应用不存在</html>", {"Content-Type": "text/html"})


@pytest.fixture
def stores() -> Iterator[dict[str, LocalServer]]:
    servers = {
        "itunes": LocalServer({"/lookup": itunes}),
        "yingyongbao": LocalServer(),
        "huawei": LocalServer({"/appdl/C100200300": huawei, "/appdl/C999": huawei}),
        "xiaomi": LocalServer(),
        "vivo": LocalServer(),
    }
    for s in servers.values():
        s.__enter__()
    yield servers
    for s in servers.values():
        s.__exit__(None, None, None)


def ask(stores: dict[str, LocalServer], **options: str) -> dict[str, StorePresence]:
    t = Target(
        "app-1", "app", "app", options=options, origins={k: s.base for k, s in stores.items()}
    )

    async def main() -> list[StorePresence]:
        async with make_client(timeout=5) as client:
            return await check_stores(t, client)

    return {p.store: p for p in asyncio.run(main())}


def test_all_stores_present(stores: dict[str, LocalServer]) -> None:
    stores["yingyongbao"]["/wechat-apkinfo"] = Reply(body=json.dumps(YYB_FOUND), headers=JSON)
    stores["xiaomi"]["/details"] = Reply(body=XIAOMI_PAGE, headers={"Content-Type": "text/html"})
    stores["vivo"][f"/detail/{PKG}"] = Reply(body=json.dumps(VIVO_FOUND), headers=JSON)
    got = ask(
        stores,
        package=PKG,
        ios_id="1234567890",
        yyb_package=PKG,
        huawei_id="C100200300",
        xiaomi_package=PKG,
        vivo_package=PKG,
    )
    assert {k: v.present for k, v in got.items()} == dict.fromkeys(
        ["appstore", "yingyongbao", "huawei", "xiaomi", "vivo"], True
    )
    assert (got["appstore"].version, got["appstore"].updated) == ("3.0.2", "2025-10-09")
    assert "Example Municipal" in got["appstore"].detail
    assert got["yingyongbao"].version == "3.0.2" and got["yingyongbao"].updated == "2025-10-09"
    assert got["huawei"].updated == "2025-10-09" and got["huawei"].detail == PKG
    assert (got["xiaomi"].version, got["xiaomi"].updated) == ("3.0.2", "2025-10-09")
    assert (got["vivo"].version, got["vivo"].updated) == ("3.0.2", "2025-10-09")
    assert stores["yingyongbao"].requests[0].method == "POST"
    assert "country=cn" in stores["itunes"].requests[0].query


def test_all_stores_absent(stores: dict[str, LocalServer]) -> None:
    stores["yingyongbao"]["/wechat-apkinfo"] = Reply(
        body=json.dumps({"ret": 0, "app_detail_records": {}}), headers=JSON
    )
    stores["xiaomi"]["/details"] = Reply.redirect("/")  # unknown ids go to the home page
    stores["vivo"]["/detail/cn.gov.gone"] = Reply(body="{}", headers=JSON)
    got = ask(
        stores,
        bundle_id="cn.gov.gone",
        yyb_package="cn.gov.gone",
        huawei_id="C999",
        xiaomi_package="cn.gov.gone",
        vivo_package="cn.gov.gone",
    )
    assert {k: v.present for k, v in got.items()} == dict.fromkeys(
        ["appstore", "yingyongbao", "huawei", "xiaomi", "vivo"], False
    )


def test_store_errors_are_unknown_not_absent(stores: dict[str, LocalServer]) -> None:
    stores["yingyongbao"]["/wechat-apkinfo"] = Reply(502, "bad gateway")
    stores["vivo"][f"/detail/{PKG}"] = Reply(body="<html>not json", headers=JSON)
    got = ask(stores, yyb_package=PKG, vivo_package=PKG)
    assert got["yingyongbao"].present is None and got["vivo"].present is None


def test_huawei_id_pointing_at_another_package(stores: dict[str, LocalServer]) -> None:
    got = ask(stores, package="cn.gov.other", huawei_id="C100200300")
    assert got["huawei"].present is False and PKG in got["huawei"].detail


def test_unregistered_stores_are_not_asked(stores: dict[str, LocalServer]) -> None:
    assert ask(stores) == {}
    assert all(not s.requests for s in stores.values())


def test_default_origins_are_the_real_ones() -> None:
    assert DEFAULT_ORIGINS["itunes"] == "https://itunes.apple.com"
    assert DEFAULT_ORIGINS["yingyongbao"] == "https://upage.html5.qq.com"
    assert DEFAULT_ORIGINS["huawei"] == "https://appgallery.cloud.huawei.com"
    assert DEFAULT_ORIGINS["xiaomi"] == "https://app.mi.com"
