"""What every fault case shares: running the real `newslab` command and judging its output."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]
#: runs the real entry point and, on exit, reports its peak memory on stderr
WRAPPER = (
    "import atexit, resource, sys\n"
    "atexit.register(lambda: sys.stderr.write("
    "f'\\n[peak_rss_kb={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}]\\n'))\n"
    "import os, time\n"
    "from newslab.launch import main\n"
    "gate = os.environ.pop('NEWSLAB_BENCH_GATE', '')\n"
    "if gate:  # started early, imports done: run the command the moment the case opens the gate\n"
    "    import newslab.cli\n"
    "    while not os.path.exists(gate):\n"
    "        time.sleep(0.005)\n"
    "main()\n"
)
_PEAK = re.compile(r"\n?\[peak_rss_kb=(\d+)\]\n?")


@dataclass
class Row:
    case: str
    outcome: str
    message: str
    lost: bool
    traceback: bool
    seconds: float = 0.0


@dataclass
class Result:
    rc: int
    out: str
    err: str
    seconds: float
    peak_mb: float = 0.0

    @property
    def text(self) -> str:
        return self.out + self.err

    @property
    def traceback(self) -> bool:
        return "Traceback (most recent call last)" in self.text

    @property
    def message(self) -> str:
        """The line a user reads: the error line, else the last line printed."""
        lines = [line.strip() for line in self.text.splitlines() if line.strip()]
        for i, line in enumerate(lines):
            if line.startswith("error:"):  # with its detail line when the first is short
                return " / ".join(lines[i : i + 2]) if len(line) < 80 and i + 1 < len(lines) else line
        return lines[-1] if lines else ""


@dataclass
class Context:
    workdir: Path
    mirror: Path
    servers: bool
    notes: list[str] = field(default_factory=list)
    cleanups: list[Callable[[], None]] = field(default_factory=list)  #: servers to stop at the end

    def data(self, case: str) -> Path:
        path = self.workdir / case / "data"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def env(self, data: Path, **extra: str) -> dict[str, str]:
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(PROJECT_DIR), os.environ.get("PYTHONPATH", "")]),
            "NEWSLAB_DATA_DIR": str(data),
            "NEWSLAB_MIRROR_DIR": str(self.mirror),
            "COLUMNS": "200",
        }
        env.pop("MLFLOW_TRACKING_URI", None)
        env.pop("NEWSLAB_TRACKING_URI", None)
        env.update(extra)
        return env

    def command(self, args: list[str]) -> list[str]:
        return [sys.executable, "-c", WRAPPER, *args]

    def cli(self, data: Path, *args: str, timeout: float = 600, **env: str) -> Result:
        start = time.monotonic()
        done = subprocess.run(
            self.command(list(args)),
            env=self.env(data, **env),
            cwd=PROJECT_DIR,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        return result_of(done.returncode, done.stdout, done.stderr, time.monotonic() - start)

    def start(self, data: Path, *args: str, **env: str) -> subprocess.Popen:
        return subprocess.Popen(
            self.command(list(args)),
            env=self.env(data, **env),
            cwd=PROJECT_DIR,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )


def finish(proc: subprocess.Popen, started: float, timeout: float = 600) -> Result:
    out, err = proc.communicate(timeout=timeout)
    return result_of(proc.returncode, out, err, time.monotonic() - started)


def result_of(rc: int, out: str, err: str, seconds: float) -> Result:
    peak = _PEAK.search(err)
    return Result(rc, out, _PEAK.sub("\n", err), seconds, int(peak[1]) / 1024 if peak else 0.0)


def children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (from /proc)."""
    out = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        match = re.search(r"^PPid:\s+(\d+)$", text, re.MULTILINE)
        if match and int(match[1]) == pid:
            out.append(int(status.parent.name))
    return out


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in state


def wait_for(check: Callable[[], bool], timeout: float = 120, every: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(every)
    return False


def interrupt(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGINT)


CASES: list[tuple[str, bool, Callable[[Context], Row]]] = []


def case(name: str, server: bool = False) -> Callable[[Callable[[Context], Row]], Callable[[Context], Row]]:
    """Register a fault case; ``server`` cases start a real server and are left out by --no-servers."""

    def add(fn: Callable[[Context], Row]) -> Callable[[Context], Row]:
        CASES.append((name, server, fn))
        return fn

    return add


def row(case_name: str, result: Result, outcome: str, lost: bool) -> Row:
    return Row(case_name, outcome, result.message, lost, result.traceback, result.seconds)
