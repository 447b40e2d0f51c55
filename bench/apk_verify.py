"""Verifying a large APK: wall time and peak memory growth over the process baseline.

Not a test: prints figures. Goal (issue 4): memory grows by < 50 MB whatever the APK size.

    python bench/apk_verify.py --size-mb 30          # builds and signs a 30 MB APK
    python bench/apk_verify.py --apk some.apk        # or measures a given one

``--v1-only`` signs with the JAR scheme alone, so every entry is inflated and hashed instead.
Building needs Debian's ``apksigner`` and ``keytool`` (see tests/build_apk_fixtures.sh); the
signed APK is v1+v2+v3 so the whole-file v2/v3 digests are computed. Two figures: inspecting
the file on disk, and the full path (streamed download from 127.0.0.1, then inspection).
Peak memory is the process's peak RSS (``ru_maxrss``), measured in a fresh child process
per stage, so one stage's peak does not hide the next's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

FIXTURE = ROOT / "tests" / "fixtures" / "apks" / "unsigned.apk"


def build(size_mb: int, workdir: Path, v1_only: bool = False) -> Path:
    """An APK carrying ``size_mb`` MB of incompressible assets, signed v1+v2+v3."""
    for tool in ("apksigner", "keytool"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} not found: apt-get install apksigner default-jdk-headless")
    raw = workdir / "raw.apk"
    shutil.copy(FIXTURE, raw)
    with zipfile.ZipFile(raw, "a") as z, z.open(zipfile.ZipInfo("assets/blob.bin"), "w") as f:
        left = size_mb * 1024 * 1024
        while left > 0:
            n = min(left, 1 << 20)
            f.write(os.urandom(n))
            left -= n
    ks = workdir / "bench.jks"
    subprocess.run(
        ["keytool", "-genkeypair", "-keystore", str(ks), "-storepass", "benchpw", "-keypass",
         "benchpw", "-alias", "bench", "-keyalg", "RSA", "-keysize", "2048", "-validity", "365",
         "-dname", "CN=xuncha bench"],
        check=True, capture_output=True,
    )  # fmt: skip
    out = workdir / ("big-v1.apk" if v1_only else "big.apk")
    only = ["--v2-signing-enabled", "false", "--v3-signing-enabled", "false"] if v1_only else []
    subprocess.run(
        ["apksigner", "sign", "--ks", str(ks), "--ks-pass", "pass:benchpw", "--min-sdk-version",
         "21", *only, "--out", str(out), str(raw)],
        check=True, capture_output=True,
    )  # fmt: skip
    return out


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def stage(kind: str, apk: Path) -> dict[str, object]:
    """Runs in a child: import everything, take the baseline, do the work, report."""
    from probes.apps.apk import inspect_apk
    from probes.apps.download import DownloadSettings, download

    if kind == "inspect":
        baseline = _rss_mb()
        t0 = time.perf_counter()
        info = inspect_apk(apk)
        wall = time.perf_counter() - t0
    else:
        from localserver import LocalServer, Reply

        def body() -> object:
            with apk.open("rb") as f:
                while chunk := f.read(1 << 20):
                    yield chunk

        reply = Reply(headers={"Content-Type": "application/vnd.android.package-archive"})
        reply.stream = body  # type: ignore[assignment]
        with LocalServer({"/big.apk": reply}) as srv:
            baseline = _rss_mb()
            t0 = time.perf_counter()
            d = asyncio.run(download(srv.url("/big.apk"), DownloadSettings()))
            assert d.path is not None and d.error is None, d.error
            info = inspect_apk(d.path)
            wall = time.perf_counter() - t0
            d.cleanup()
    assert info.signer_sha256, info.problems
    return {
        "stage": kind,
        "wall_s": round(wall, 3),
        "baseline_mb": round(baseline, 1),
        "peak_growth_mb": round(_rss_mb() - baseline, 1),
        "schemes": info.schemes,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size-mb", type=int, default=30)
    ap.add_argument("--apk", type=Path)
    ap.add_argument("--v1-only", action="store_true", help="sign v1 only (JAR digests of entries)")
    ap.add_argument("--stage", choices=["inspect", "download"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.stage:
        print(json.dumps(stage(args.stage, args.apk)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        apk = args.apk or build(args.size_mb, Path(tmp), args.v1_only)
        size = apk.stat().st_size / 1024 / 1024
        print(f"APK: {size:.1f} MB")
        for kind in ("inspect", "download"):
            out = subprocess.run(
                [sys.executable, __file__, "--stage", kind, "--apk", str(apk)],
                check=True, capture_output=True, text=True,
            )  # fmt: skip
            r = json.loads(out.stdout.strip().splitlines()[-1])
            ok = "ok" if r["peak_growth_mb"] < 50 else "OVER GOAL"
            print(
                f"{kind:9s} wall {r['wall_s']:.2f} s  baseline {r['baseline_mb']} MB  "
                f"peak growth {r['peak_growth_mb']} MB ({ok}, goal < 50 MB)  "
                f"schemes {','.join(r['schemes'])}"
            )


if __name__ == "__main__":
    main()
