"""Our Chromium processes, found through /proc: their memory (the pool recycles past a
ceiling), their ids (the benchmarks count their CPU) and, as a last resort, their end."""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry.name}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def chromium_pids(root: int | None = None) -> list[int]:
    """Chromium processes descending from this process (through playwright's driver)."""
    tree = _children()
    out: list[int] = []
    stack = list(tree.get(root or os.getpid(), []))
    while stack:
        pid = stack.pop()
        stack.extend(tree.get(pid, []))
        try:
            comm = Path(f"/proc/{pid}/comm").read_text().strip()
        except OSError:
            continue
        if "chrom" in comm:
            out.append(pid)
    return out


def chromium_memory_mb() -> float:
    """Memory of our Chromium processes: PSS (shared pages split fairly), else RSS."""
    total_kb = 0
    for pid in chromium_pids():
        try:
            text = Path(f"/proc/{pid}/smaps_rollup").read_text()
            key = "Pss:"
        except OSError:
            try:
                text = Path(f"/proc/{pid}/status").read_text()
                key = "VmRSS:"
            except OSError:
                continue
        for line in text.splitlines():
            if line.startswith(key):
                total_kb += int(line.split()[1])
                break
    return total_kb / 1024


def kill_chromium() -> None:
    """Last resort when close hangs: kill our own Chromium processes, by pid."""
    for pid in chromium_pids():
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def tree_cpu_seconds(root: int | None = None, only: tuple[str, ...] = ()) -> float:
    """CPU seconds of the processes below this one, with what their exited children used;
    ``only``: those whose name holds one of these (``("chrom", "node")``: Chromium and
    playwright's driver, not a writer process beside them) — what the browser costs."""
    tree = _children()
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    stack = list(tree.get(root or os.getpid(), []))
    while stack:
        pid = stack.pop()
        stack.extend(tree.get(pid, []))
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        name = stat[stat.find("(") + 1 : stat.rfind(")")]
        if only and not any(o in name for o in only):
            continue
        fields = stat.rsplit(")", 1)[1].split()
        total += sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
    return total / tick


def browser_cpu_seconds() -> float:
    """CPU seconds Chromium and playwright's driver used so far (see tree_cpu_seconds)."""
    return tree_cpu_seconds(only=("chrom", "node"))
