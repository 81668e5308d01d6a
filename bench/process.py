"""A command measured as a whole process, from its start to its exit: wall time, CPU time and peak memory.

The process's own resource usage comes from wait4 (the kernel's account of that one child), not from
RUSAGE_CHILDREN, which keeps the largest peak of every child so far.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def measure(*args: str, cwd: Path | None = None) -> dict[str, Any]:
    """`python ARGS` in its own process: {"wall_s", "cpu_s", "peak_mb", "stdout"}."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, *args], cwd=cwd, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait for it again
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise SystemExit(f"bench step failed: {' '.join(args)}\n{err.read()}")
        return {"wall_s": round(wall, 3), "cpu_s": round(usage.ru_utime + usage.ru_stime, 3),
                "peak_mb": round(usage.ru_maxrss / 1024, 1), "stdout": out.read()}


def best(*args: str, repeat: int = 3, cwd: Path | None = None) -> dict[str, Any]:
    """The fastest of `repeat` runs (the others were slowed by something else on the machine)."""
    return min((measure(*args, cwd=cwd) for _ in range(repeat)), key=lambda m: m["cpu_s"])


def ratio(case: dict[str, Any], floor: dict[str, Any]) -> dict[str, Any]:
    """The case beside the floor: how many times its wall time, its CPU time (what a busy machine moves least)
    and its peak memory."""
    return {"time_x": round(case["wall_s"] / floor["wall_s"], 2), "cpu_x": round(case["cpu_s"] / floor["cpu_s"], 2),
            "memory_x": round(case["peak_mb"] / floor["peak_mb"], 2)}
