"""A dataset config's `published:` figures are checked against the metric registry when the config
is read: a figure under a name no table has a column for would otherwise be dropped without a word."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import NewslabError
from dataset.config import load_dataset_config

CONFIGS = Path(__file__).resolve().parents[2] / "configs" / "datasets"
HEAD = "name: bench\nimporter: fnc1\nasset: fnc1\ntask: stance\nextra_metrics: [fnc_score]\npublished:\n"
TALOS = '  - {system: "Talos (FNC-1 1st)", metric: fnc_score, value: 0.8202, source: "FNC-1 leaderboard"}\n'


def _config(tmp_path: Path, entry: str) -> Path:
    path = tmp_path / "bench.yaml"
    path.write_text(HEAD + TALOS + entry, encoding="utf-8")
    return path


def test_an_unknown_published_metric_names_file_entry_name_and_the_known_ones(tmp_path: Path) -> None:
    path = _config(tmp_path, '  - {system: "Athene (FNC-1 2nd)", metric: fnc_scor, value: 0.8197}\n')
    with pytest.raises(NewslabError) as caught:
        load_dataset_config(str(path))
    message = caught.value.message
    assert str(path) in message and "published[1] (system 'Athene (FNC-1 2nd)')" in message
    assert "unknown metric 'fnc_scor'" in message
    assert "known metric names: accuracy, average_precision, f_avg, fnc_score, macro_f1" in message


def test_a_published_figure_of_a_metric_without_a_column_is_refused(tmp_path: Path) -> None:
    path = _config(tmp_path, '  - {system: "Athene (FNC-1 2nd)", metric: hamming_loss, value: 0.1}\n')
    with pytest.raises(NewslabError, match=r"published\[1\].*'hamming_loss' is logged but has no column"):
        load_dataset_config(str(path))


def test_a_per_label_figure_is_not_a_metric_name(tmp_path: Path) -> None:
    path = _config(tmp_path, '  - {system: "Athene (FNC-1 2nd)", metric: f1_agree, value: 0.5}\n')
    with pytest.raises(NewslabError, match=r"unknown metric 'f1_agree'"):
        load_dataset_config(str(path))


def test_known_published_metrics_and_every_shipped_config_are_accepted(tmp_path: Path) -> None:
    config = load_dataset_config(str(_config(tmp_path, "")))
    assert [(p.system, p.metric) for p in config.published] == [("Talos (FNC-1 1st)", "fnc_score")]
    shipped = sorted(CONFIGS.glob("*.yaml"))
    assert shipped and all(load_dataset_config(str(path)).name for path in shipped)
