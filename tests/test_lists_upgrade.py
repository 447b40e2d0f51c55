"""Upgrading the package keeps the user's own lists (issue 29).

A real install, twice: the tree is packed into a wheel (what ``pip wheel`` would hold: the
``alerts``, ``monitor`` and ``probes`` packages with their data files, a dist-info with
RECORD hashes and the ``xuncha`` console script), installed with pip into a fresh virtual
environment, then replaced by the next version's wheel (``pip install --upgrade``), whose
shipped lists differ. The user's lists live in the data dir, outside site-packages: after
the upgrade they are byte for byte as they were and still judge, beside the new shipped
entries. (The wheel is packed here because this machine has no ``wheel`` package for
setuptools to build one with, and no network to fetch it; pip installs it as any wheel.)
"""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("alerts", "monitor", "probes")


def _hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def pack(out: Path, version: str, extra_typo: str = "") -> Path:
    """A wheel of this tree as ``version``; ``extra_typo`` is added to the shipped typos."""
    wheel = out / f"xuncha-{version}-py3-none-any.whl"
    info = f"xuncha-{version}.dist-info"
    files: dict[str, bytes] = {}
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                files[path.relative_to(ROOT).as_posix()] = path.read_bytes()
    if extra_typo:
        key = "probes/data/content/typos.txt"
        files[key] += f"\n@来源 测试用的新版本内置条目\n{extra_typo}\n".encode()
    files[f"{info}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: xuncha\nVersion: {version}\n".encode()
    )
    files[f"{info}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    files[f"{info}/entry_points.txt"] = b"[console_scripts]\nxuncha = monitor.cli:main\n"
    record = [f"{name},{_hash(data)},{len(data)}" for name, data in files.items()]
    files[f"{info}/RECORD"] = ("\n".join([*record, f"{info}/RECORD,,"]) + "\n").encode()
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(name, data)
    return wheel


@pytest.mark.timeout(600)
def test_upgrading_the_package_keeps_the_users_own_lists(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)],
                   check=True, timeout=120)  # fmt: skip
    py, xuncha = venv / "bin" / "python", venv / "bin" / "xuncha"
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("XUNCHA_", "PYTHON"))}  # fmt: skip
    env |= {"XUNCHA_DATA_DIR": str(data), "XUNCHA_CLOCK": "2026-11-20T10:00:00+08:00"}

    def pip(wheel: Path, *flags: str) -> None:
        args = ["install", "--no-deps", "--no-index", "--disable-pip-version-check", *flags]
        r = subprocess.run([str(py), "-m", "pip", *args, str(wheel)], capture_output=True,
                           text=True, env=env, cwd=tmp_path, timeout=300)  # fmt: skip
        assert r.returncode == 0, r.stdout + r.stderr

    def run(*args: object) -> str:
        # cwd away from this source tree: ``python -c`` would import it first
        r = subprocess.run([str(a) for a in args], capture_output=True, text=True, env=env,
                           cwd=tmp_path, timeout=120)  # fmt: skip
        assert r.returncode == 0, r.stderr
        return r.stdout

    def tried(text: str) -> str:
        return run(xuncha, "lists", "try", text, "--unit", "qx-gov")

    pip(pack(tmp_path, "0.1.0"))
    where = run(py, "-c", "import probes; print(probes.__file__)")
    assert where.startswith(str(venv)), where  # the installed copy, not a source tree

    mine = data / "lists"
    (mine / "content").mkdir(parents=True)
    (mine / "roster").mkdir()
    (mine / "content" / "typos.txt").write_text(
        "@来源 青溪县融媒体中心《稿件校对规范》（2026年第1版）\n青溪县政付\t青溪县政府\n",
        encoding="utf-8",
    )
    (mine / "roster" / "qx.csv").write_text(
        "单位编码,姓名,职务,任职起始,任职截止\nqx-gov,欧阳明月,县长,2026-01-01,\n", encoding="utf-8"
    )
    before = {p: p.read_bytes() for p in mine.rglob("*") if p.is_file()}
    text = "青溪县政付通知：县长欧阳名月要求再接再励，抓好新版词。"
    first = tried(text)
    assert "青溪县政付" in first and "欧阳名月" in first and "再接再励" in first
    assert "新版词" not in first

    pip(pack(tmp_path, "0.2.0", extra_typo="新版词\t新版规范词"), "--upgrade")
    version = run(py, "-c", "from importlib.metadata import version; print(version('xuncha'))")
    assert version.strip() == "0.2.0"
    after = tried(text)
    assert "青溪县政付" in after and "用户 content/typos.txt:2" in after  # the user's entry
    assert "roster/qx.csv:2" in after  # the user's roster
    assert "新版词" in after  # and the new shipped entry beside them
    assert {p: p.read_bytes() for p in mine.rglob("*") if p.is_file()} == before
