"""APK verification on the committed fixtures (built by tests/build_apk_fixtures.sh)."""

from __future__ import annotations

import shutil
import tracemalloc
from pathlib import Path

import pytest
from localserver import FIXTURES

from probes.apps.apk import (
    ApkError,
    ApkInfo,
    Signer,
    _decide,
    classify_page,
    inspect_apk,
    looks_like_html,
)

APKS = FIXTURES / "apks"
SIGNERS = dict(line.split() for line in (APKS / "signers.txt").read_text().splitlines())
OLD, NEW, OTHER = SIGNERS["old"], SIGNERS["new"], SIGNERS["other"]


def test_v123_signed_apk_reads_manifest_and_signer() -> None:
    info = inspect_apk(APKS / "v123.apk")
    assert info.package == "cn.gov.example.zwfw"
    assert (info.version_code, info.version_name, info.min_sdk) == (302, "3.0.2", 21)
    assert info.schemes == ["v1", "v2", "v3"]
    assert info.signer_sha256 == OLD
    assert info.problems == []


@pytest.mark.parametrize(("name", "schemes"), [("v2only.apk", ["v2"]), ("v1only.apk", ["v1"])])
def test_single_scheme_apks(name: str, schemes: list[str]) -> None:
    info = inspect_apk(APKS / name)
    assert info.schemes == schemes
    assert info.signer_sha256 == OLD


def test_rotated_key_uses_v3_signer_and_keeps_lineage() -> None:
    info = inspect_apk(APKS / "rotated.apk")
    assert info.signer_sha256 == NEW  # v3 wins over the v1/v2 signer (the old key)
    assert info.lineage == [OLD, NEW]
    assert {s.scheme: s.cert_sha256 for s in info.signers}["v2"] == OLD
    assert info.problems == []


def test_other_key_is_seen_as_other_signer() -> None:
    assert inspect_apk(APKS / "otherkey.apk").signer_sha256 == OTHER


def test_unsigned_apk_has_no_signer() -> None:
    info = inspect_apk(APKS / "unsigned.apk")
    assert info.package == "cn.gov.example.zwfw"
    assert info.signer_sha256 is None
    assert info.problems == ["APK 未签名"]


def test_modified_after_signing_fails_the_v2_digest(tmp_path: Path) -> None:
    p = tmp_path / "tampered.apk"
    shutil.copy(APKS / "v2only.apk", p)
    data = bytearray(p.read_bytes())
    data[10] ^= 0xFF  # mtime in the first local header: unread by zipfile, covered by v2
    p.write_bytes(bytes(data))
    info = inspect_apk(p)
    assert info.signer_sha256 is None
    assert any("内容摘要不符" in x for x in info.problems)


def test_schemes_that_disagree_are_rejected() -> None:
    # a crafted APK (F-Droid 2024): v2 by the publisher, v1 by someone else
    info = ApkInfo()
    _decide(info, [Signer("v1", OTHER)], [Signer("v2", OLD)], [])
    assert info.signer_sha256 is None
    assert any("不一致" in p for p in info.problems)


def test_several_v2_signers_are_rejected() -> None:
    info = ApkInfo()
    _decide(info, [], [Signer("v2", OLD), Signer("v2", OTHER)], [])
    assert info.signer_sha256 is None
    assert any("多个不同的签名者" in p for p in info.problems)


def test_v1_signer_outside_the_rotation_lineage_is_rejected() -> None:
    info = ApkInfo()
    _decide(info, [Signer("v1", OTHER)], [Signer("v2", OLD)], [Signer("v3", NEW, [OLD, NEW])])
    assert info.signer_sha256 is None


@pytest.mark.parametrize("name", ["corrupt.apk", "truncated.apk", "gambling.apk"])
def test_not_a_zip_is_an_apk_error(name: str) -> None:
    with pytest.raises(ApkError, match="不是有效的 ZIP"):
        inspect_apk(APKS / name)


def test_zip_bomb_is_refused_without_inflating_it() -> None:
    tracemalloc.start()
    try:
        with pytest.raises(ApkError, match="ZIP 炸弹"):
            inspect_apk(APKS / "zipbomb.apk")
        _cur, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 10_000_000


def test_zip_bomb_that_lies_about_its_size_is_stopped(tmp_path: Path) -> None:
    import zipfile

    p = tmp_path / "liar.apk"
    with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("AndroidManifest.xml", b"\0" * 6_000_000)
    data = bytearray(p.read_bytes())
    # patch the declared uncompressed size (local header and central directory) to 1000
    for sig, off in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        i = data.find(sig)
        data[i + off : i + off + 4] = (1000).to_bytes(4, "little")
    p.write_bytes(bytes(data))
    with pytest.raises(ApkError):
        inspect_apk(p)


def test_zip_without_manifest_is_not_an_apk(tmp_path: Path) -> None:
    import zipfile

    p = tmp_path / "plain.zip"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("readme.txt", "hi")
    with pytest.raises(ApkError, match=r"AndroidManifest\.xml"):
        inspect_apk(p)


def test_page_classification() -> None:
    html = (APKS / "gambling.apk").read_bytes()
    assert looks_like_html(html)
    kind, words = classify_page(html.decode())
    assert kind == "hijacked" and "百家乐" in words
    assert classify_page("<title>404 页面不存在</title>", 404)[0] == "error"
    landing = "<html><title>掌上政务 APP 下载</title><a href=app.apk>安卓下载</a></html>"
    assert classify_page(landing)[0] == "landing"
    # one stray word on a government page is not a hijack
    assert classify_page("<p>严厉打击网络棋牌赌博</p>")[0] != "hijacked"


def test_v3_signers_for_disjoint_sdk_ranges_are_accepted() -> None:
    info = ApkInfo()
    v3 = [Signer("v3", OLD, [], (21, 27)), Signer("v3", NEW, [OLD, NEW], (28, 0x7FFFFFFF))]
    _decide(info, [Signer("v1", OLD)], [Signer("v2", OLD)], v3)
    assert info.signer_sha256 == NEW and info.problems == []


def test_v3_signers_for_the_same_sdk_are_rejected() -> None:
    info = ApkInfo()
    _decide(info, [], [], [Signer("v3", OLD, [], (21, 99)), Signer("v3", OTHER, [], (28, 99))])
    assert info.signer_sha256 is None


def _rewrite(src: Path, dst: Path, change: dict[str, bytes | None], add: dict[str, bytes]) -> None:
    """Copy an APK entry by entry (dropping any APK Signing Block), changing some entries."""
    import zipfile

    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for zi in zin.infolist():
            data = change.get(zi.filename, zin.read(zi))
            if data is not None:
                zout.writestr(zi.filename, data)
        for name, data in add.items():
            zout.writestr(name, data)


def test_v1_only_signature_is_verified() -> None:
    info = inspect_apk(APKS / "v1only.apk")
    assert info.v1_verified and info.signer_sha256 == OLD


def test_v1_only_with_an_added_entry_is_rejected(tmp_path: Path) -> None:
    p = tmp_path / "added.apk"
    _rewrite(APKS / "v1only.apk", p, {}, {"assets/payload.dex": b"dex\n035"})
    info = inspect_apk(p)
    assert info.signer_sha256 is None
    assert any("MANIFEST.MF" in x and "payload" in x for x in info.problems)


def test_v1_only_with_a_changed_entry_is_rejected(tmp_path: Path) -> None:
    import zipfile

    with zipfile.ZipFile(APKS / "v1only.apk") as z:
        manifest = z.read("AndroidManifest.xml")
    old = "zwfw".encode("utf-16-le") if "zwfw".encode("utf-16-le") in manifest else b"zwfw"
    changed = manifest.replace(old, old[:-1] + b"x" if len(old) == 4 else old[:-2] + b"x\0")
    p = tmp_path / "changed.apk"
    _rewrite(APKS / "v1only.apk", p, {"AndroidManifest.xml": changed}, {})
    info = inspect_apk(p)
    assert info.package != "cn.gov.example.zwfw"
    assert info.signer_sha256 is None
    assert any("签名后被改动" in x for x in info.problems)


def test_v2_stripped_leaving_v1_is_rejected(tmp_path: Path) -> None:
    p = tmp_path / "stripped.apk"
    _rewrite(APKS / "v123.apk", p, {}, {})  # re-zipping drops the APK Signing Block
    info = inspect_apk(p)
    assert info.schemes == ["v1"]
    assert info.signer_sha256 is None
    assert any("剥离" in x for x in info.problems)


def test_jarsigner_v1_with_signed_attributes_is_verified() -> None:
    info = inspect_apk(APKS / "jarsigned.apk")
    assert info.schemes == ["v1"] and info.v1_verified
    assert info.signer_sha256 == OTHER


# -- bounded member reads (probes.apps.zipread), shared by the APK reader and the v1 verifier --


def test_a_member_is_read_up_to_its_cap_and_refused_past_it_by_its_claim(tmp_path: Path) -> None:
    import zipfile

    from probes.apps.zipread import MemberTooLarge, read_capped

    p = tmp_path / "sizes.zip"
    with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("exact", b"a" * 1000)
        z.writestr("big", b"\0" * 50_000_000)
    tracemalloc.start()
    try:
        with zipfile.ZipFile(p) as z:
            assert read_capped(z, "exact", 1000) == b"a" * 1000
            with pytest.raises(MemberTooLarge) as small:
                read_capped(z, "exact", 999)
            with pytest.raises(MemberTooLarge) as big:
                read_capped(z, "big", 1_000_000)
        _cur, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (small.value.declared, small.value.cap) == (1000, 999)
    assert big.value.declared == 50_000_000
    assert peak < 10_000_000  # refused by its claim: never inflated


def test_v1_manifest_too_large_is_a_problem_not_a_read(tmp_path: Path) -> None:
    """The v1 verifier reads MANIFEST.MF through the same bound, in its own words."""
    from probes.apps.jar import MAX_META_BYTES

    p = tmp_path / "bigmanifest.apk"
    huge = b"Manifest-Version: 1.0\r\n\r\n" + b"\0" * (MAX_META_BYTES + 1)
    _rewrite(APKS / "v1only.apk", p, {"META-INF/MANIFEST.MF": huge}, {})
    tracemalloc.start()
    try:
        info = inspect_apk(p)
        _cur, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert info.schemes == ["v1"] and not info.v1_verified and info.signer_sha256 is None
    assert f"v1 签名校验失败：META-INF/MANIFEST.MF 过大（{len(huge)} 字节）" in info.problems
    assert peak < 10_000_000
