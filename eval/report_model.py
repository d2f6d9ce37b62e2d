"""What the results report shows, as plain data: collected from MLflow (``eval.report_collect``),
rendered by templates (``eval.report_render``), so either side can change without the other."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

from eval.breakdowns import GroupMetrics
from eval.errors import ErrorAnalysis
from eval.results import ResultRow


@dataclass(frozen=True)
class Figure:
    name: str  #: file stem, unique in the report (``<run id>-<kind>``)
    title: str
    png: bytes

    @property
    def data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


@dataclass(frozen=True)
class RunSection:
    run_id: str
    experiment_id: str
    system: str
    dataset: str
    task: str
    metrics: dict[str, float]
    figures: list[Figure] = field(default_factory=list)
    breakdowns: list[GroupMetrics] = field(default_factory=list)
    errors: ErrorAnalysis | None = None
    missing: list[str] = field(default_factory=list)  #: artifacts the run lacks


@dataclass(frozen=True)
class LearningCurve:
    run_id: str
    experiment_id: str
    system: str  #: the experiment config, or the MLflow experiment's name
    figure: Figure


@dataclass(frozen=True)
class DatasetSection:
    dataset: str
    runs: list[RunSection]
    learning_curves: list[LearningCurve] = field(default_factory=list)


@dataclass(frozen=True)
class Report:
    created: str
    tracking_uri: str  #: without credentials
    leaderboard: list[ResultRow]
    datasets: list[DatasetSection]
    run_url: str | None = None  #: ``...{experiment_id}...{run_id}`` for a tracking server's UI

    def link(self, experiment_id: str, run_id: str) -> str | None:
        return self.run_url.format(experiment_id=experiment_id, run_id=run_id) if self.run_url else None

    @property
    def figures(self) -> list[Figure]:
        out = [f for d in self.datasets for r in d.runs for f in r.figures]
        return out + [c.figure for d in self.datasets for c in d.learning_curves]
