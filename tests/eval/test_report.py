"""The results report: rendering (fast, from a report built by hand), the page in a real headless
Chromium, and a report of two real training runs read back from MLflow (slow)."""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from core.errors import NewslabError
from core.settings import Settings
from eval.analysis import ERRORS
from eval.breakdowns import GroupMetrics
from eval.calibration import reliability, reliability_figure
from eval.errors import ConfidentError, ConfusedPair, ErrorAnalysis, Example
from eval.plots import class_f1_figure, confusion_figure, png_of
from eval.report_collect import redact
from eval.report_model import DatasetSection, Figure, Report, RunSection
from eval.report_publish import write_report
from eval.report_render import FIGURES, render_html, render_markdown
from eval.results import ResultRow
from tests.conftest import run_cli
from tests.eval.conftest import train_conref_pair

CHROMIUM = Path("/usr/bin/chromium")
RUN_A, RUN_B = "a" * 32, "b" * 32
CODES = ["favor", "against", "neutral"]


def _section(run_id: str, name: str) -> RunSection:
    metrics = {
        "macro_f1": 0.61,
        "macro_f1_ci_low": 0.55,
        "macro_f1_ci_high": 0.67,
        "accuracy": 0.7,
        "f_avg": 0.58,
        "ece": 0.081,
        **{f"f1_{c}": f for c, f in zip(CODES, (0.8, 0.5, 0.3), strict=True)},
        **{f"support_{c}": n for c, n in zip(CODES, (60, 30, 10), strict=True)},
    }
    rng = np.random.default_rng(0)
    confusion = png_of(confusion_figure(rng.integers(0, 40, (3, 3)), CODES, f"{name}: test"))
    calibration = reliability(rng.random(200), rng.random(200) < 0.6)
    figures = [
        Figure(f"{run_id}-confusion", f"confusion matrix, run {run_id[:8]}", confusion),
        Figure(
            f"{run_id}-reliability",
            f"reliability, run {run_id[:8]}",
            png_of(reliability_figure(calibration, name)),
        ),
        Figure(f"{run_id}-class-f1", "per-class F1", png_of(class_f1_figure(metrics, CODES, name))),
    ]
    errors = ErrorAnalysis(
        [
            ConfusedPair(
                "favor", "against", 7, [Example("t1", "Voto sì | <script>alert(1)</script> al referendum")]
            )
        ],
        [ConfidentError("t9", "against", "favor", 0.97, "Io voto NO perché...")],
    )
    groups = [GroupMetrics("lang", "it", 100, 0.7, 0.61)]
    return RunSection(run_id, "1", name, "conref_ita", "stance", metrics, figures, groups, errors)


@functools.cache
def _sections() -> tuple[RunSection, ...]:
    return _section(RUN_A, "lr"), _section(RUN_B, "cnb")


def _report(run_url: str | None = None) -> Report:
    sections = list(_sections())
    rows = [
        ResultRow("conref_ita", "lr", sections[0].metrics, RUN_A, ours=True),
        ResultRow("conref_ita", "cnb", {"macro_f1": 0.55}, RUN_B, ours=True),
        ResultRow("conref_ita", "Best system", {"f_avg": 0.685}, "Cignarella et al. 2020", ours=False),
    ]
    return Report(
        "2025-01-01 00:00 UTC",
        "sqlite:///x/mlflow.db",
        rows,
        [DatasetSection("conref_ita", sections)],
        run_url,
    )


def _no_external_resources(html: str) -> None:
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", html)
    assert "<link" not in html and "<script" not in html and "@import" not in html


def test_html_is_self_contained_and_names_every_run() -> None:
    html = render_html(_report())
    _no_external_resources(html)
    assert html.count('src="data:image/png;base64,') == 6
    for run_id in (RUN_A, RUN_B):
        assert f'href="#run-{run_id}"' in html and f'id="run-{run_id}"' in html
    assert "0.610 [0.550–0.670]" in html and "ECE 0.081" in html and "published [1]" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # snippets are escaped
    assert "Cignarella et al. 2020" in html and "0.970" in html


def test_html_links_to_a_tracking_server() -> None:
    url = "http://mlflow.internal:5000/#/experiments/{experiment_id}/runs/{run_id}"
    html = render_html(_report(run_url=url))
    assert f'href="http://mlflow.internal:5000/#/experiments/1/runs/{RUN_A}"' in html


def test_markdown_has_the_tables_and_relative_figures() -> None:
    markdown = render_markdown(_report())
    assert "| conref_ita | **lr** | 0.610 [0.550–0.670] |" in markdown
    assert f"`{RUN_A}`" in markdown and "published [1]" in markdown
    assert f"![confusion matrix, run aaaaaaaa]({FIGURES}/{RUN_A}-confusion.png)" in markdown
    assert "Voto sì \\| &lt;script>" in markdown  # a pipe does not break the table
    assert "| lang | it | 100 | 0.700 | 0.610 |" in markdown


def test_both_templates_say_what_a_run_lacks() -> None:
    bare = RunSection(
        RUN_A, "1", "lr", "conref_ita", "stance", {"macro_f1": 0.5}, errors=ErrorAnalysis([], [])
    )
    lacking = RunSection(RUN_B, "1", "cnb", "conref_ita", "stance", {"macro_f1": 0.4}, missing=[ERRORS])
    rows = [ResultRow("conref_ita", s.system, s.metrics, s.run_id, ours=True) for s in (bare, lacking)]
    report = Report("now", "sqlite:///x.db", rows, [DatasetSection("conref_ita", [bare, lacking])])
    html, markdown = render_html(report), render_markdown(report)
    for text in (html, markdown):
        assert "No errors." in text and "None (no wrong prediction with a probability)." in text
        assert f"Not logged with this run: {ERRORS} (evaluate it again:" in text
    assert "| dataset | system | macro F1 | ECE |" not in markdown  # no run has an ECE
    assert "| dataset | system | macro F1 | MLflow run |" in markdown


def test_write_report_replaces_files_and_drops_stale_figures(tmp_path: Path) -> None:
    stale = tmp_path / FIGURES / "old-run-confusion.png"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"old")
    files = write_report(_report(), tmp_path)
    assert files.html.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert len(files.figures) == 6 and all(p.read_bytes().startswith(b"\x89PNG") for p in files.figures)
    assert not stale.exists() and not list(tmp_path.rglob(".*"))  # no temp files left
    for line in files.markdown.read_text(encoding="utf-8").splitlines():
        for target in re.findall(r"!\[[^]]*\]\(([^)]+)\)", line):
            assert (tmp_path / target).is_file()


def test_credentials_are_not_shown() -> None:
    """The report uses the shared redaction: the password goes, the user name stays."""
    assert redact("http://user:secret@mlflow.internal:5000") == "http://user:***@mlflow.internal:5000"
    assert redact("sqlite:////tmp/mlflow.db") == "sqlite:////tmp/mlflow.db"


def screenshot(html: Path, tmp_path: Path) -> Path:
    """The page rendered by a real headless Chromium (nothing fetched from the network)."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run installs the Debian package `chromium`")
        pytest.skip(f"{CHROMIUM} is missing: `apt-get install -y chromium` to render the report")
    png = tmp_path / "screenshot.png"
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        f"--screenshot={png}",
        "--window-size=1200,1600",
        html.resolve().as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert png.is_file(), f"no screenshot (exit {done.returncode}): {done.stderr[-2000:]}"
    return png


def assert_not_blank(png: Path) -> None:
    from PIL import Image

    with Image.open(png) as image:
        pixels = np.asarray(image.convert("RGB"))
    assert pixels.shape[:2] == (1600, 1200)
    non_white = (pixels < 245).any(axis=2).mean()
    colours = len(np.unique(pixels.reshape(-1, 3), axis=0))
    assert non_white > 0.05, f"only {non_white:.1%} of the page is not white"
    assert colours > 100, f"only {colours} distinct colours"


def test_the_page_renders_in_headless_chromium(tmp_path: Path) -> None:
    files = write_report(_report(), tmp_path / "report")
    shutil.rmtree(tmp_path / "report" / FIGURES)  # the page must not need them
    assert_not_blank(screenshot(files.html, tmp_path))


# --- two real runs ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_runs(shared: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, list[str]]]:
    """Two evaluated runs on conref_ita (logistic regression, complement naive Bayes) and a learning
    curve run, in a store of their own, shared by the tests of this module."""
    from core.settings import get_settings

    root = tmp_path_factory.mktemp("report-runs")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NEWSLAB_DATA_DIR", str(root / "data"))
        mp.delenv("NEWSLAB_TRACKING_URI", raising=False)
        mp.delenv("MLFLOW_TRACKING_URI", raising=False)
        get_settings.cache_clear()
        settings = get_settings()
        from eval.evaluate import evaluate_run

        runs = train_conref_pair(root)
        for run_id in runs:
            evaluate_run(run_id, n_boot=50)
        _log_learning_curve(root)
        yield settings, runs
    get_settings.cache_clear()


def _log_learning_curve(root: Path) -> None:
    """A run as the learning-curve command logs one: tagged, with its plot."""
    import matplotlib.pyplot as plt
    import mlflow

    fig, ax = plt.subplots()
    ax.plot([50, 100, 200, 400], [0.4, 0.5, 0.55, 0.6], marker="o")
    path = root / "learning_curve.png"
    fig.savefig(path)
    plt.close(fig)
    mlflow.set_experiment("stance-conref_ita")
    tags = {"newslab.kind": "learning_curve", "newslab.experiment": "lr", "newslab.dataset": "conref_ita"}
    with mlflow.start_run(run_name="lr-learning-curve", tags=tags) as run:
        mlflow.log_artifact(str(path), artifact_path="plots")
    root.joinpath("learning_curve_run").write_text(run.info.run_id)


@pytest.mark.slow
def test_evaluate_logs_calibration_breakdowns_and_errors(real_runs: tuple[Settings, list[str]]) -> None:
    import json

    import mlflow
    import pandas as pd

    _, runs = real_runs
    client = mlflow.MlflowClient()
    run = client.get_run(runs[0])
    assert 0.0 <= run.data.metrics["test_ece"] <= 1.0 and "test_f_avg" in run.data.metrics
    artifacts = {a.path for a in client.list_artifacts(runs[0], "eval")}
    artifacts |= {a.path for a in client.list_artifacts(runs[0], "plots")}
    assert artifacts >= {
        "plots/confusion_matrix.png",
        "plots/reliability.png",
        "eval/breakdowns.csv",
        "eval/errors.json",
        "eval/confident_errors.csv",
        "eval/calibration.json",
    }
    local = mlflow.artifacts.download_artifacts(run_id=runs[0], artifact_path="eval/breakdowns.csv")
    groups = pd.read_csv(local, keep_default_na=False)
    assert set(groups["column"]) >= {"lang", "target"} and groups["n"].max() == 167
    errors = json.loads(
        Path(
            mlflow.artifacts.download_artifacts(run_id=runs[0], artifact_path="eval/errors.json")
        ).read_text()
    )
    assert errors["confused"] and errors["confident"][0]["snippet"]
    calibration = json.loads(
        Path(
            mlflow.artifacts.download_artifacts(run_id=runs[0], artifact_path="eval/calibration.json")
        ).read_text()
    )
    assert calibration["ece"] == pytest.approx(run.data.metrics["test_ece"]) and calibration["n"] == 167


@pytest.mark.slow
def test_report_of_two_real_runs(real_runs: tuple[Settings, list[str]], tmp_path: Path) -> None:
    import mlflow

    from eval.report import build_report
    from eval.report_publish import EXPERIMENT

    settings, runs = real_runs
    curve = (settings.data_dir.parent / "learning_curve_run").read_text()
    files = build_report(settings=settings)  # default: the latest run of each experiment
    assert files.html.parent == settings.reports_dir
    html = files.html.read_text(encoding="utf-8")
    _no_external_resources(html)
    for run_id in (*runs, curve):
        assert run_id in html
    assert "Best system (SardiStance, EVALITA 2020)" in html and "Learning curve: lr" in html
    assert html.count('src="data:image/png;base64,') == 2 * 3 + 1
    assert "Most confident errors" in html and "Breakdowns" in html
    markdown = files.markdown.read_text(encoding="utf-8")
    assert all(run_id in markdown for run_id in runs) and len(files.figures) == 7

    logged = mlflow.get_run(files.run_id)
    assert logged.info.run_name == "report"
    assert mlflow.get_experiment(logged.info.experiment_id).name == EXPERIMENT
    assert set(logged.data.tags["newslab.report.runs"].split(",")) == set(runs)
    names = {a.path for a in mlflow.MlflowClient().list_artifacts(files.run_id)}
    assert {"report.html", "report.md", "figures"} <= names

    assert_not_blank(screenshot(files.html, tmp_path))


@pytest.mark.slow
def test_report_cli_with_run_ids(real_runs: tuple[Settings, list[str]], tmp_path: Path) -> None:
    from eval.report import build_report

    settings, runs = real_runs
    env = {"NEWSLAB_DATA_DIR": str(settings.data_dir)}
    out = tmp_path / "out"
    done = run_cli("eval", "report", "--out", str(out), "--no-log", runs[1], env=env)
    assert done.returncode == 0, done.stderr
    html = (out / "report.html").read_text(encoding="utf-8")
    assert runs[1] in html and runs[0] not in html
    with pytest.raises(NewslabError, match=f"not evaluated newslab runs: {'0' * 32}"):
        build_report([runs[0], "0" * 32], settings=settings, log=False)
