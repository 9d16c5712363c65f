"""CPU seconds of processes, read from /proc: a process and every descendant still running (a server's JVM or
its worker children), plus what its finished children used (cutime, cstime)."""

from __future__ import annotations

import os
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) is not None:
            tree.setdefault(int(fields[1]), []).append(int(entry.name))
    return tree


def cpu_seconds(pid: int) -> float:
    """User and system CPU seconds of `pid` and its descendants so far."""
    tree = _children()
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        fields = _stat(current)
        if fields is not None:
            total += sum(int(f) for f in fields[11:15]) / TICK  # utime, stime, cutime, cstime
        todo += tree.get(current, [])
    return total


def snapshot(pids: dict[str, int]) -> dict[str, float]:
    return {name: cpu_seconds(pid) for name, pid in pids.items()}


def since(before: dict[str, float], pids: dict[str, int]) -> dict[str, float]:
    after = snapshot(pids)
    return {name: round(after[name] - before[name], 3) for name in pids}
