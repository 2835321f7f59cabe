"""Child processes for benchmarks and tests: wait until a server answers, stop it by PID."""

from __future__ import annotations

import subprocess
import time
import urllib.request
from collections.abc import Callable

__all__ = ["wait_for_http", "stop"]


def wait_for_http(url: str, proc: subprocess.Popen, timeout: float, failed: Callable[[str], Exception]) -> float:
    """Seconds until ``url`` answers 200. Raises ``failed(why)`` when ``proc`` exits first or
    ``timeout`` seconds pass."""
    started = time.perf_counter()
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return time.perf_counter() - started
        except OSError:
            pass
        if proc.poll() is not None:
            raise failed(f"exited with {proc.returncode}")
        if time.perf_counter() - started > timeout:
            raise failed(f"not ready after {timeout:.0f} s")
        time.sleep(0.1)


def stop(proc: subprocess.Popen, grace: float = 20.0) -> None:
    """Terminate ``proc``; kill it if it is still there after ``grace`` seconds."""
    proc.terminate()
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
