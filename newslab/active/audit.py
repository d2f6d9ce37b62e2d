"""``newslab annotate audit``: the gold labels a model trained without them doubts, sent to review.

Out-of-fold probabilities (``eval.audit``: folds grouped by near-duplicate cluster, else article)
over the audited split(s) of a dataset built from newslab's annotations; cleanlab's label-issue
ranking (its multi-label variant for event types); CROWDLAB (``annotation.crowdlab``) where items
have several annotators, weighing each annotator against the others and the same out-of-fold
model. An item is flagged when cleanlab finds its label an issue, or when CROWDLAB's consensus
differs from its gold label. The flagged items go to the task's review project, each with every
annotator's labels, the model's suggestion and the reason as read-only text beside an empty form
(``annotation.review``); the whole ranking is written to ``data/annotations/audit/``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from annotation.agreement import submitted
from annotation.client import Connection, connect
from annotation.crowdlab import Crowdlab, crowdlab, crowdlab_multilabel
from annotation.gold import gold_labels
from annotation.push import PushReport
from annotation.review import send_to_review
from annotation.tables import read_annotations
from core.errors import NewslabError
from core.files import atomic_write
from core.schema import Schema, load_schema
from core.settings import Settings, get_settings
from corpus.store import Store
from dataset.config import config_of, load_dataset_config
from eval.audit import label_issues, out_of_fold_proba
from newslab.backend.choose import annotated_task
from training.config import ExperimentConfig, load_experiment
from training.runner import Part, Prepared, prepare_experiment

ALL = "all"


@dataclass(frozen=True)
class Flag:
    id: str
    gold: list[str]
    suggested: list[str]
    quality: float
    reason: str
    suggestion: str


@dataclass
class AuditReport:
    task: str
    experiment: str
    splits: list[str]
    items: int
    flagged: list[Flag]
    table: pd.DataFrame
    out: Path
    crowdlab: Crowdlab | None = None
    pushed: PushReport | None = None
    not_sent: str = ""
    sent: list[str] = field(default_factory=list)


def find_experiment(task: str, dataset: str, settings: Settings) -> str:
    """The one experiment config that trains ``task`` on ``dataset``; an error naming the candidates."""
    folder = settings.configs_dir / "experiments"
    matches, of_task = [], []
    for path in sorted(folder.glob("*.yaml")):
        try:
            config, _ = load_experiment(path)
        except NewslabError:
            continue
        if config.task == task:
            of_task.append(path.stem)
            if config_of(config.dataset) == dataset:
                matches.append(path.stem)
    if len(matches) == 1:
        return matches[0]
    which = (
        f"{len(matches)} experiments train {task} on {dataset}"
        if matches
        else f"no experiment trains {task} on {dataset}"
    )
    raise NewslabError(
        f"audit: {which}; the audit needs one to fit its out-of-fold models.",
        f"Give --experiment (of {task}: {', '.join(of_task) or 'none'}).",
    )


def _part(data: Prepared, splits: list[str]) -> tuple[Part, list[str]]:
    """The audited splits as one part, and their item ids."""
    missing = [s for s in splits if s not in data.parts]
    if missing:
        raise NewslabError(f"audit: the dataset has no split {missing[0]!r} (has {', '.join(data.parts)}).")
    parts = [data.parts[s] for s in splits]
    gold = list(itertools.chain.from_iterable(p.gold for p in parts))
    groups = list(itertools.chain.from_iterable(p.groups for p in parts))
    part = Part(pd.concat([p.x for p in parts]), gold, groups)
    ids = [str(i) for s in splits for i in data.ds[s]["id"]]
    return part, ids


def _as_list(labels, multi_label: bool) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(labels) if multi_label else [labels]


def _suggestion(schema: Schema, task: str, proba: np.ndarray, codes: list[str], multi_label: bool) -> str:
    """The model's view, readable: the labels it would give, with their probabilities."""
    names = {label.code: label.name for label in schema.task(task).labels}
    if multi_label:
        given = [(c, p) for c, p in zip(codes, proba, strict=True) if p >= 0.5] or []
        shown = ", ".join(f"{names[c]} ({p:.2f})" for c, p in given) or "no event type"
    else:
        order = np.argsort(-proba)[:2]
        shown = ", then ".join(f"{names[codes[j]]} ({proba[j]:.2f})" for j in order)
    return f"{shown} (a model trained without this item)"


def _votes(frame: pd.DataFrame, multi_label: bool) -> pd.DataFrame:
    rows = submitted(frame)
    items = [f"{a}:{t}" if t else str(a) for a, t in zip(rows["article_id"], rows["target"], strict=True)]
    labels = [tuple(x) if multi_label else (x[0] if len(x) else "") for x in rows["labels"]]
    votes = pd.DataFrame({"item": items, "annotator": rows["annotator"].astype(str), "label": labels})
    return votes if multi_label else votes[votes["label"] != ""]


def _crowdlab(
    frame: pd.DataFrame, ids: list[str], proba: np.ndarray, codes: list[str], multi: bool
) -> Crowdlab | None:
    """CROWDLAB over the audited items, where two or more annotators share some of them."""
    votes = _votes(frame, multi)
    votes = votes[votes["item"].isin(set(ids))]
    if votes["annotator"].nunique() < 2 or not votes["item"].duplicated().any():
        return None
    run = crowdlab_multilabel if multi else crowdlab
    return run(votes, ids, proba, codes)


def audit_task(
    task: str,
    experiment: str | None = None,
    dataset: str = "newslab",
    split: str = "train",
    top: int = 50,
    folds: int = 5,
    send: bool = True,
    seed: int = 0,
    settings: Settings | None = None,
    conn: Connection | None = None,
) -> AuditReport:
    """Audit ``task``'s gold labels in ``split`` (``all``: every split) of the experiment's dataset,
    write the ranking and send the ``top`` flagged items to the review project."""
    settings = settings or get_settings()
    schema = load_schema(settings.schema_path)
    annotated_task(schema, task)
    name = experiment or find_experiment(task, dataset, settings)
    config, _ = load_experiment(name)
    if config.task != task:
        raise NewslabError(f"audit: experiment {config.name} trains {config.task!r}, not {task!r}.")
    data = prepare_experiment(config, settings=settings, schema=schema)
    splits = list(data.parts) if split == ALL else [split]
    part, ids = _part(data, splits)
    codes, multi = list(data.task.codes), data.task.multi_label
    frame = _annotations(config, settings, schema, task)
    if send:
        conn = conn or connect(settings)  # a server that is down is said before the folds are fitted
    proba = out_of_fold_proba(data, part, k=folds, seed=seed)
    issues = label_issues(part.gold, proba, codes, multi)
    consensus = _crowdlab(frame, ids, proba, codes, multi) if frame is not None else None
    table = _table(ids, part.gold, issues, proba, codes, multi, consensus)
    out = settings.annotations_dir / "audit" / f"{task}-{split}.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(out, table.to_csv(index=False))
    flagged = [
        Flag(
            row.id,
            row.gold,
            row.suggested,
            float(row.quality),
            row.reason,
            _suggestion(schema, task, proba[ids.index(row.id)], codes, multi),
        )
        for row in table[table["flagged"]].head(top).itertuples()
    ]
    report = AuditReport(config.task, config.name, splits, len(ids), flagged, table, out, consensus)
    if not send or not flagged:
        return report
    if frame is None:
        report.not_sent = (
            f"{config.dataset} is not built from newslab's annotations: no review project to send to."
        )
        return report
    report.pushed, report.sent = _send(conn, schema, task, frame, flagged, config, settings)
    return report


def _annotations(
    config: ExperimentConfig, settings: Settings, schema: Schema, task: str
) -> pd.DataFrame | None:
    """The annotations the experiment's dataset was built from (as ``dataset.build`` finds them),
    or None for a dataset not built from newslab's annotations."""
    dataset = load_dataset_config(config_of(config.dataset))
    if not dataset.from_annotations:
        return None
    source = settings.project_dir / dataset.annotations if dataset.annotations else settings.annotations_dir
    return read_annotations(source / f"{task}.parquet", schema, task)


def _table(
    ids: list[str],
    gold: list,
    issues,  # type: ignore[no-untyped-def]
    proba: np.ndarray,
    codes: list[str],
    multi: bool,
    consensus: Crowdlab | None,
) -> pd.DataFrame:
    """Every audited item, the flagged first (cleanlab's issues in its order, then CROWDLAB's)."""
    is_issue = set(issues.flagged.tolist())
    rows = []
    for i in issues.ranking:
        item = ids[i]
        reason = ""
        if i in is_issue:
            reason = f"the model doubts the gold label (label quality {issues.quality[i]:.2f})"
        agrees = None
        if consensus is not None and item in consensus.items.index:
            label = consensus.items.loc[item, "consensus_label"]
            agrees = _as_list(label, multi) == _as_list(gold[i], multi)
            if not agrees:
                also = f"; CROWDLAB's consensus is {', '.join(_as_list(label, multi)) or 'none'}"
                reason = (reason + also) if reason else also[2:].capitalize()
        rows.append(
            {
                "id": item,
                "gold": _as_list(gold[i], multi),
                "suggested": _as_list(issues.suggested[i], multi),
                "quality": float(issues.quality[i]),
                "flagged": bool(reason),
                "reason": reason,
                "crowdlab_agrees": agrees,
                **{f"proba_{c}": float(proba[i, j]) for j, c in enumerate(codes)},
            }
        )
    table = pd.DataFrame(rows)
    return pd.concat([table[table["flagged"]], table[~table["flagged"]]], ignore_index=True)


def _send(
    conn: Connection,
    schema: Schema,
    task: str,
    frame: pd.DataFrame,
    flagged: list[Flag],
    config: ExperimentConfig,
    settings: Settings,
) -> tuple[PushReport, list[str]]:
    """The flagged items, with every annotator's labels, to the review project."""
    gold_config = load_dataset_config(config_of(config.dataset)).gold
    store = Store(settings.corpus_dir)
    texts = store.texts(frame["article_id"]) if gold_config.needs_texts else None
    gold = gold_labels(frame, schema, task, gold_config, texts)
    by_id = {f"{g.article_id}:{g.target}" if g.target else g.article_id: g for g in gold.items}
    items = [by_id[f.id] for f in flagged if f.id in by_id]
    suggestions = {by_id[f.id].unit: f.suggestion for f in flagged if f.id in by_id}
    reasons = {by_id[f.id].unit: f.reason for f in flagged if f.id in by_id}
    pushed = send_to_review(conn, schema, task, items, store, settings, suggestions, reasons)
    return pushed, [f.id for f in flagged if f.id in by_id]
