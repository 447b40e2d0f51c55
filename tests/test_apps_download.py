"""App download probe and install detector, end to end against local HTTP/HTTPS servers."""

from __future__ import annotations

import asyncio
import ipaddress
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from localserver import FIXTURES, LocalServer, Reply

import probes.apps.reader as app_reader
from probes.apps.download import DownloadSettings, download, host_within, registrable_host
from probes.checks import Context
from probes.checks.calendar import WorkCalendar
from probes.checks.install import detect_install
from probes.checks.rules import BUILTIN_RULESETS
from probes.fetch import Tools
from probes.fetch.http import Fetcher, HttpSettings
from probes.model import Observation, Outcome, Severity, Signal, Target
from probes.platforms import observe
from probes.platforms.registry import READERS

APKS = FIXTURES / "apks"
SIGNERS = dict(line.split() for line in (APKS / "signers.txt").read_text().splitlines())
OLD, NEW, OTHER = SIGNERS["old"], SIGNERS["new"], SIGNERS["other"]
APK_TYPE = "application/vnd.android.package-archive"
PKG = "cn.gov.example.zwfw"


# -- certificates ------------------------------------------------------------------------------


@dataclass
class Pki:
    ca_file: Path
    good: tuple[Path, Path]
    expiring: tuple[Path, Path]
    expired: tuple[Path, Path]
    self_signed: tuple[Path, Path]


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _write(d: Path, stem: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> tuple:
    c, k = d / f"{stem}.pem", d / f"{stem}.key"
    c.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    k.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return c, k


def _leaf(
    d: Path, stem: str, issuer: tuple | None, start: datetime, end: datetime
) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name("127.0.0.1")
    signer_name, signer_key = (issuer[0].subject, issuer[1]) if issuer else (name, key)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(signer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(signer_key, hashes.SHA256())
    )
    return _write(d, stem, cert, key)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    d = tmp_path_factory.mktemp("pki")
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("xuncha test CA"))
        .issuer_name(_name("xuncha test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    ca_file, _ = _write(d, "ca", ca, ca_key)
    issuer = (ca, ca_key)
    day = timedelta(days=1)
    return Pki(
        ca_file=ca_file,
        good=_leaf(d, "good", issuer, now - day, now + 200 * day),
        expiring=_leaf(d, "expiring", issuer, now - day, now + 10 * day + timedelta(hours=1)),
        expired=_leaf(d, "expired", issuer, now - 30 * day, now - 2 * day),
        self_signed=_leaf(d, "self", None, now - day, now + 200 * day),
    )


@pytest.fixture(autouse=True)
def download_settings(pki: Pki, monkeypatch: pytest.MonkeyPatch) -> None:
    """The app reader with the test CA trusted, for this test only."""
    downloads = DownloadSettings(ca_file=str(pki.ca_file), timeout_seconds=10)
    reader = partial(app_reader.read_app, downloads=downloads)
    monkeypatch.setitem(READERS, "app", reader)


# -- helpers -----------------------------------------------------------------------------------


def apk(name: str, **kw: object) -> Reply:
    return Reply.fixture(f"apks/{name}", APK_TYPE, **kw)  # type: ignore[arg-type]


def app_target(url: str, **options: str) -> Target:
    return Target(
        account_id="app-1",
        platform="app",
        reader="app",
        name="示例政务",
        url=url,
        options={"download_url": url, "package": PKG, **options},
    )


def check(t: Target) -> tuple[Observation, list[Signal]]:
    async def main() -> Observation:
        async with Fetcher(HttpSettings(retries=0, timeout_seconds=10)) as f:
            return await observe(t, Tools(f))

    obs = asyncio.run(main())
    ctx = Context(
        ruleset=BUILTIN_RULESETS["national"],
        calendar=WorkCalendar(),
        now=datetime.now(UTC),
        posts=[],
    )
    return obs, detect_install(obs, ctx)


def kinds(signals: list[Signal]) -> dict[str, Signal]:
    return {s.kind: s for s in signals}


# -- the download itself -----------------------------------------------------------------------


def test_registrable_host() -> None:
    assert registrable_host("app.sz.gov.cn") == "sz.gov.cn"
    assert registrable_host("www.example.com") == "example.com"
    assert registrable_host("127.0.0.1") == "127.0.0.1"
    assert host_within("dl.app.sz.gov.cn", "sz.gov.cn")
    assert not host_within("sz.gov.cn.evil.com", "sz.gov.cn")


def test_download_streams_to_a_file_and_records_hops(tmp_path: Path) -> None:
    with LocalServer({"/get": Reply.redirect("/v/app.apk"), "/v/app.apk": apk("v123.apk")}) as s:
        d = asyncio.run(download(s.url("/get"), DownloadSettings(tmp_dir=str(tmp_path))))
    try:
        assert d.error is None and d.status == 200
        assert [(r.status, r.url) for r in d.redirects] == [(302, s.url("/get"))]
        assert d.final_url == s.url("/v/app.apk")
        assert d.path is not None and d.path.read_bytes() == (APKS / "v123.apk").read_bytes()
        assert d.length == (APKS / "v123.apk").stat().st_size
    finally:
        d.cleanup()
    assert list(tmp_path.iterdir()) == []


def test_download_over_the_cap_stops_early() -> None:
    def endless() -> Iterator[bytes]:
        for _ in range(10_000):
            yield b"PK\x03\x04" + b"x" * 65_532

    with LocalServer({"/big.apk": Reply(headers={"Content-Type": APK_TYPE}, stream=endless)}) as s:
        d = asyncio.run(download(s.url("/big.apk"), DownloadSettings(max_bytes=1_000_000)))
        sent = s.sent["/big.apk"]
    d.cleanup()
    assert d.error is not None and "上限" in d.error
    assert sent < 50_000_000


def test_declared_length_over_the_cap_is_not_downloaded() -> None:
    reply = Reply(body=b"x" * 10, headers={"Content-Length": "999999999999"})
    with LocalServer({"/huge.apk": reply}) as s:
        d = asyncio.run(download(s.url("/huge.apk"), DownloadSettings(max_bytes=1000)))
    assert d.error is not None and d.path is None


@pytest.mark.real_clock
def test_tls_facts_good_and_expiring(pki: Pki) -> None:
    for certs, days in ((pki.good, 199), (pki.expiring, 10)):
        with LocalServer({"/a.apk": apk("v123.apk")}, tls=certs) as s:
            d = asyncio.run(download(s.url("/a.apk"), DownloadSettings(ca_file=str(pki.ca_file))))
        d.cleanup()
        assert d.error is None
        assert [(t.valid, t.days_left) for t in d.tls] == [(True, days)]


@pytest.mark.real_clock
@pytest.mark.parametrize(("which", "reason"), [("expired", "过期"), ("self_signed", "自签名")])
def test_tls_facts_invalid_but_content_still_read(pki: Pki, which: str, reason: str) -> None:
    with LocalServer({"/a.apk": apk("v123.apk")}, tls=getattr(pki, which)) as s:
        d = asyncio.run(download(s.url("/a.apk"), DownloadSettings(ca_file=str(pki.ca_file))))
    d.cleanup()
    assert d.error is None and d.length > 0
    assert d.tls[0].valid is False and reason in d.tls[0].reason


def test_unreachable_host_is_an_error_not_an_exception() -> None:
    with LocalServer() as s:
        url = s.url("/a.apk")
    d = asyncio.run(download(url, DownloadSettings(connect_timeout_seconds=2)))
    assert d.error is not None and "无法连接" in d.error


# -- reader + detector -------------------------------------------------------------------------


def test_good_app_gives_no_problem_signal() -> None:
    with LocalServer({"/app.apk": apk("v123.apk")}) as s:
        obs, signals = check(app_target(s.url("/app.apk"), signer_sha256=OLD))
    assert obs.outcome is Outcome.ok and obs.app is not None
    a = obs.app
    assert (a.is_apk, a.package, a.version_code, a.min_sdk) == (True, PKG, 302, 21)
    assert a.signer_sha256 == OLD and a.signature_schemes == ["v1", "v2", "v3"]
    assert signals == []


def test_without_pinned_signer_only_the_pin_notice() -> None:
    with LocalServer({"/app.apk": apk("v2only.apk")}) as s:
        _obs, signals = check(app_target(s.url("/app.apk")))
    assert list(kinds(signals)) == ["app_signer_pinned"]
    pin = signals[0]
    assert pin.severity is Severity.info and pin.evidence["observed_signer"] == OLD


def test_different_signer_is_high_severity() -> None:
    with LocalServer({"/app.apk": apk("otherkey.apk")}) as s:
        _obs, signals = check(app_target(s.url("/app.apk"), signer_sha256=OLD))
    sig = kinds(signals)["app_signer_changed"]
    assert sig.severity is Severity.high
    assert sig.evidence["observed_signer"] == OTHER and sig.evidence["pinned_signer"] == OLD
    assert "签名" in sig.title


def test_rotated_key_with_pinned_old_key_is_accepted() -> None:
    with LocalServer({"/app.apk": apk("rotated.apk")}) as s:
        obs, signals = check(app_target(s.url("/app.apk"), signer_sha256=OLD.upper()))
    assert obs.app is not None and obs.app.signer_sha256 == NEW
    assert signals == []


def test_unsigned_apk_is_a_signer_problem() -> None:
    with LocalServer({"/app.apk": apk("unsigned.apk")}) as s:
        _obs, signals = check(app_target(s.url("/app.apk"), signer_sha256=OLD))
    assert kinds(signals)["app_signer_changed"].severity is Severity.high


def test_package_mismatch() -> None:
    with LocalServer({"/app.apk": apk("v123.apk")}) as s:
        _obs, signals = check(
            app_target(s.url("/app.apk"), package="cn.gov.other", signer_sha256=OLD)
        )
    sig = kinds(signals)["app_package_mismatch"]
    assert sig.evidence["observed"] == PKG and sig.evidence["expected"] == "cn.gov.other"


def test_hijacked_download_page() -> None:
    page = Reply.fixture("apks/gambling.apk", "application/octet-stream")
    with LocalServer({"/app.apk": page}) as s:
        obs, signals = check(app_target(s.url("/app.apk"), signer_sha256=OLD))
    assert obs.app is not None and obs.app.page_kind == "hijacked"
    assert list(kinds(signals)) == ["app_hijacked"]
    assert any(a.kind == "download_page" for a in obs.artifacts)


def test_landing_page_is_not_an_apk() -> None:
    page = Reply(body="<html><title>掌上政务下载</title><a href=x.apk>下载</a></html>")
    page.headers["Content-Type"] = "text/html; charset=utf-8"
    with LocalServer({"/app.apk": page}) as s:
        _obs, signals = check(app_target(s.url("/app.apk")))
    sig = kinds(signals)["app_not_apk"]
    assert sig.evidence["page_kind"] == "landing"


@pytest.mark.parametrize("name", ["corrupt.apk", "zipbomb.apk"])
def test_broken_packages_are_not_apks(name: str) -> None:
    with LocalServer({"/app.apk": apk(name)}) as s:
        obs, signals = check(app_target(s.url("/app.apk")))
    assert obs.app is not None and obs.app.is_apk is False
    assert "app_not_apk" in kinds(signals)


def test_404_and_truncated_downloads_are_unreachable() -> None:
    whole = (APKS / "v123.apk").read_bytes()
    routes = {
        "/gone.apk": Reply(404, "not found", {"Content-Type": "text/html"}),
        "/cut.apk": Reply(body=whole, headers={"Content-Type": APK_TYPE}, cut_at=len(whole) // 2),
    }
    with LocalServer(routes) as s:
        _o1, gone = check(app_target(s.url("/gone.apk")))
        _o2, cut = check(app_target(s.url("/cut.apk")))
    assert list(kinds(gone)) == ["app_download_unreachable"]
    assert "app_download_unreachable" in kinds(cut)
    assert "下载不完整" in kinds(cut)["app_download_unreachable"].detail


def test_redirect_to_a_foreign_host() -> None:
    with LocalServer() as s:
        s["/app.apk"] = Reply.redirect(s.url("/x.apk").replace("127.0.0.1", "localhost"))
        s["/x.apk"] = apk("v123.apk")
        obs, signals = check(app_target(s.url("/app.apk"), signer_sha256=OLD))
    sig = kinds(signals)["app_foreign_redirect"]
    assert sig.evidence["final_host"] == "localhost"
    assert sig.evidence["redirects"] == [f"302 {s.url('/app.apk')}"]
    assert obs.redirects and obs.redirects[0].status == 302


@pytest.mark.real_clock
def test_expired_certificate_signal(pki: Pki) -> None:
    with LocalServer({"/app.apk": apk("v123.apk")}, tls=pki.expired) as s:
        _obs, signals = check(app_target(s.url("/app.apk"), signer_sha256=OLD))
    sig = kinds(signals)["app_tls"]
    assert sig.severity is Severity.high and "过期" in sig.detail


@pytest.mark.real_clock
def test_expiring_certificate_warns(pki: Pki) -> None:
    with LocalServer({"/app.apk": apk("v123.apk")}, tls=pki.expiring) as s:
        _obs, signals = check(app_target(s.url("/app.apk"), signer_sha256=OLD))
    sig = kinds(signals)["app_tls"]
    assert sig.severity is Severity.warning and sig.evidence["tls_days_left"] == 10


def test_one_bad_mirror_among_several_urls_is_reported() -> None:
    page = Reply.fixture("apks/gambling.apk", "text/html")
    with LocalServer({"/a.apk": apk("v123.apk"), "/b.apk": page}) as s:
        urls = f"{s.url('/a.apk')} {s.url('/b.apk')}"
        obs, signals = check(app_target(s.url("/a.apk"), download_url=urls, signer_sha256=OLD))
    assert "app_hijacked" in kinds(signals)
    report = app_reader.report_of(obs)
    assert [d["download_url"] for d in report["downloads"]] == urls.split()


def test_store_missing_is_reported_with_the_download() -> None:
    empty = Reply(body='{"resultCount": 0, "results": []}', headers={"Content-Type": "text/json"})
    with LocalServer({"/app.apk": apk("v123.apk")}) as s, LocalServer({"/lookup": empty}) as it:
        t = app_target(s.url("/app.apk"), signer_sha256=OLD, ios_id="1234567890")
        t = Target(**{**t.__dict__, "origins": {"itunes": it.base}})
        obs, signals = check(t)
    assert obs.app is not None and [p.store for p in obs.app.stores] == ["appstore"]
    sig = kinds(signals)["app_store_missing"]
    assert sig.severity is Severity.warning and "App Store" in sig.title
    assert "country=cn" in it.requests[0].query


def test_trickling_server_hits_the_whole_download_deadline() -> None:
    slow = Reply(body=b"PK\x03\x04" + b"x" * 4000, chunk_size=100, chunk_delay=0.1)
    with LocalServer({"/slow.apk": slow}) as s:
        d = asyncio.run(download(s.url("/slow.apk"), DownloadSettings(timeout_seconds=0.5)))
    d.cleanup()
    assert d.error is not None and "超时" in d.error


def test_redirect_loop_is_an_error_with_the_hops() -> None:
    with LocalServer({"/a.apk": Reply.redirect("/b.apk"), "/b.apk": Reply.redirect("/a.apk")}) as s:
        d = asyncio.run(download(s.url("/a.apk")))
    assert d.error is not None and "循环" in d.error
    assert [r.url for r in d.redirects] == [s.url("/a.apk"), s.url("/b.apk")]


def test_ios_only_app_is_judged_on_the_store_alone() -> None:
    found = json.dumps({"resultCount": 1, "results": [{"trackName": "示例政务", "version": "3"}]})
    with LocalServer({"/lookup": Reply(body=found, headers={"Content-Type": "text/json"})}) as it:
        t = Target("ios-1", "app", "app", options={"ios_id": "1"}, origins={"itunes": it.base})
        obs, signals = check(t)
    assert obs.app is not None and obs.app.stores[0].present is True
    assert signals == []


def test_keytool_style_pinned_fingerprint_is_accepted() -> None:
    pinned = ":".join(OLD[i : i + 2] for i in range(0, len(OLD), 2)).upper()
    with LocalServer({"/app.apk": apk("v123.apk")}) as s:
        _obs, signals = check(app_target(s.url("/app.apk"), signer_sha256=pinned))
    assert signals == []
