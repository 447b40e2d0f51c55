"""A registry workbook at the size limits, wrong in every cell: what importing it costs.

    python bench/registry_limits.py --rows 155000
    python bench/registry_limits.py --rows 155000 --valid

Not a test: prints figures. Builds an XLSX (inline strings, every cell different so it does
not compress past the 100× ratio limit; 155,000 rows × 14 columns is just under the 100 MB
unpacked limit) and runs ``xuncha registry import --dry-run`` on it in a process of its own,
printing its CPU seconds, peak memory (ru_maxrss of the child), exit code and how many
lines it wrote. ``--valid`` makes every row importable instead (units referenced exist).
docs/registry.md quotes the figures.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.test_registry_hostile import row, sheet, workbook  # noqa: E402

HEADER = ("账号编号", "平台", "账号名称", "主办单位", "平台账号ID", "地址", "读取方式", "类型",
          "更新规则", "状态", "代运营机构", "主账号", "巡查间隔（分钟）", "参数")  # fmt: skip


def rand() -> str:
    return os.urandom(4).hex()


def wrong(i: int) -> bytes:
    return row(f"a {i}", f"火星{rand()}", "", f"无此单位{rand()}", rand(), f"ftp://{rand()}",
               f"nope{rand()}", "奇怪", f"r{rand()}", "半死", rand(), "也许", "-5",
               f"item{rand()}")  # fmt: skip


def right(i: int) -> bytes:
    return row(f"a{i}-{rand()}", "微博", f"账号{rand()}", "u1", rand(),
               f"https://rss.example.gov.cn/{rand()}.xml", "rss", "发布类", "national", "正常",
               rand(), "否", "60", f"tz=Asia/Shanghai; x{rand()}=1")  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rows", type=int, default=155_000)
    p.add_argument("--valid", action="store_true")
    args = p.parse_args()
    make = right if args.valid else wrong
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        started = time.monotonic()
        units = sheet(row("单位编码", "单位名称") + row("u1", "青溪县人民政府办公室"))
        book = workbook(tmp / "registry.xlsx", sheet(row(*HEADER) +
                        b"".join(make(i) for i in range(args.rows))), units)  # fmt: skip
        print(f"workbook: {args.rows} rows, {book.stat().st_size >> 20} MB packed, "
              f"built in {time.monotonic() - started:.0f} s")  # fmt: skip
        cfg = tmp / "xuncha.toml"
        cfg.write_text(f'data_dir = "{tmp}"\n[logging]\nlevel = "warning"\n', encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("XUNCHA_")}
        xuncha = [sys.executable, "-m", "monitor", "--config", str(cfg)]
        subprocess.run([*xuncha, "init"], env=env, cwd=REPO, check=True, capture_output=True)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        r = subprocess.run([*xuncha, "registry", "import", "--dry-run", str(book)],
                           env=env, cwd=REPO, capture_output=True, text=True)  # fmt: skip
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    lines = (r.stdout + r.stderr).splitlines()
    print(f"import --dry-run: exit {r.returncode}, {cpu:.1f} s CPU, "
          f"peak {after.ru_maxrss >> 10} MB, {len(lines)} lines")  # fmt: skip
    print("  first line:", lines[0] if lines else "")
    print("  last line:", lines[-1] if lines else "")


if __name__ == "__main__":
    main()
