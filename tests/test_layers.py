"""The layer contract (pyproject.toml, [tool.importlinter]) holds, and it catches a back-edge."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from core.settings import PROJECT_DIR

PACKAGES = ("core", "newslab_model", "corpus", "annotation", "dataset", "training", "eval", "newslab")
LINT = Path(sys.executable).with_name("lint-imports")


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT), "--config", str(root / "pyproject.toml"), "--no-cache"],
        cwd=root,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
        timeout=120,
    )


def test_the_layers_are_kept() -> None:
    result = _lint(PROJECT_DIR)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


def test_a_back_edge_breaks_the_contract(tmp_path: Path) -> None:
    for package in PACKAGES:
        shutil.copytree(
            PROJECT_DIR / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(PROJECT_DIR / "pyproject.toml", tmp_path)
    schema = tmp_path / "core" / "schema.py"  # the bottom layer reaching up to evaluation
    schema.write_text(schema.read_text() + "\nfrom eval.evaluate import evaluate_run  # noqa\n")
    result = _lint(tmp_path)
    assert result.returncode != 0
    assert "BROKEN" in result.stdout and "core.schema -> eval.evaluate" in result.stdout
