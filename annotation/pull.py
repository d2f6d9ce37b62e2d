"""Pull annotations: a full JSON export saved as an immutable snapshot, normalised into a long table.

One row per annotation, draft or prediction: project, task, article id, text
hash, target, annotator, labels (schema codes), lead time, created/updated,
cancelled, ground truth, the annotator's comment (the layout's comment box), and
provenance: whether the annotator started from a model's prediction (``origin``:
accepted, changed or from_scratch) and which ``model_version``. A skipped task
commits no labels (``labels`` is empty, ``cancelled`` true), whatever
pre-annotation Label Studio kept in its result. Per-annotator sibling projects
are merged. The committable form (``<task>.jsonl``) references articles by id
and text hash and holds no article text.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from annotation.client import Connection, with_retries
from annotation.label_config import COMMENT
from annotation.projects import ProjectRef
from core.errors import NewslabError
from core.files import atomic_open, atomic_write
from core.schema import Schema
from core.settings import Settings, get_settings

EXPORT_OPTIONS = {
    "serialization_options": {
        "drafts": {"only_id": False},
        "predictions": {"only_id": False},
        "annotations__completed_by": {"only_id": False},
    },
    "annotation_filter_options": {"usual": True, "ground_truth": True, "skipped": True},
}

#: an annotation's ``origin``: started from a prediction whose labels it kept, started from one and
#: changed them, or made without one
ORIGINS = ("accepted", "changed", "from_scratch")
#: what Label Studio's editor writes in each result item of an annotation it pre-filled
_PREDICTED = {"prediction", "prediction-changed"}


@dataclass(frozen=True)
class AnnotationRecord:
    project: str
    task: str  #: the schema task (stance, event_type)
    task_id: int
    article_id: str
    text_hash: str
    target: str
    kind: str  #: annotation, draft or prediction
    record_id: int
    annotator: str  #: e-mail (annotations, drafts) or model version (predictions)
    labels: list[str]
    lead_time: float | None
    created_at: str
    updated_at: str
    cancelled: bool
    ground_truth: bool
    score: float | None = None
    origin: str = ""  #: one of ORIGINS for annotations and drafts; empty for predictions
    model_version: str = ""  #: the prediction it started from; empty for from_scratch
    comment: str = ""  #: what the annotator wrote in the comment box; empty when nothing


@dataclass(frozen=True)
class Provenance:
    origin: str
    model_version: str


@dataclass(frozen=True)
class Predicted:
    """A task's prediction as an annotation's starting point: its model version and labels."""

    model_version: str
    labels: frozenset[str]


@dataclass(frozen=True)
class Snapshot:
    path: Path
    sha256: str
    tasks: int


def export_snapshot(conn: Connection, project: ProjectRef, settings: Settings | None = None) -> Snapshot:
    """Download the project's full JSON export into an immutable, timestamped file with its sha256."""
    settings = settings or get_settings()
    client = conn.client()
    export = with_retries(
        lambda: client.projects.exports.create(id=project.id, **EXPORT_OPTIONS),
        f"exporting {project.title!r}",
    )
    deadline = time.monotonic() + 600
    while True:
        state = with_retries(
            lambda: client.projects.exports.get(id=project.id, export_pk=export.id), "export status"
        )
        if state.status == "completed":
            break
        if state.status == "failed" or time.monotonic() > deadline:
            raise NewslabError(f"Label Studio: export of {project.title!r} {state.status or 'timed out'}.")
        time.sleep(0.5)
    data = b"".join(
        with_retries(
            lambda: list(
                client.projects.exports.download(id=project.id, export_pk=export.id, export_type="JSON")
            ),
            "downloading export",
        )
    )
    digest = hashlib.sha256(data).hexdigest()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    name = project.title.replace("/", "__")
    path = settings.annotations_dir / "snapshots" / f"{name}-{stamp}.json"
    atomic_write(path, data, readonly=True)
    atomic_write(path.with_suffix(".json.sha256"), f"{digest}  {path.name}\n".encode(), readonly=True)
    tasks = json.loads(data)
    return Snapshot(path, digest, len(tasks) if isinstance(tasks, list) else 0)


def recorded_sha256(path: Path) -> str | None:
    """The sha256 recorded beside a snapshot at pull time (``<file>.sha256``); None if there is none."""
    check = Path(str(path) + ".sha256")
    if not check.is_file():
        return None
    words = check.read_text(encoding="utf-8", errors="replace").split()
    return words[0].lower() if words else ""


def check_snapshot(path: Path, raw: bytes) -> None:
    """A snapshot is immutable: content that no longer matches its recorded sha256 is refused."""
    recorded = recorded_sha256(path)
    actual = hashlib.sha256(raw).hexdigest()
    if recorded is not None and recorded != actual:
        raise NewslabError(
            f"{path}: checksum mismatch with {Path(path).name}.sha256: edited after it was pulled "
            f"(sha256 {actual[:16]}…, recorded {recorded[:16] or 'nothing'}…).",
            "Pull again (`newslab annotate pull`) or restore the file as it was pulled; "
            "snapshots are never edited by hand.",
        )


def read_snapshot(path: Path) -> list[dict]:
    """Read a snapshot, checking its sha256 when the checksum file is beside it."""
    raw = Path(path).read_bytes()
    check_snapshot(path, raw)
    try:
        tasks = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise NewslabError(f"{path}: line {exc.lineno}: not valid JSON ({exc.msg}).") from None
    except UnicodeDecodeError as exc:
        raise NewslabError(f"{path}: not UTF-8 ({exc.reason}).", "Pull again.") from None
    if not isinstance(tasks, list):
        raise NewslabError(
            f"{path}: a Label Studio JSON export is a list of tasks, got {type(tasks).__name__}."
        )
    return tasks


def _choices(result: list, task_name: str, where: str) -> list[str]:
    labels: list[str] = []
    for region in result or []:
        if not isinstance(region, dict):
            raise NewslabError(f"{where}: result entry is not an object.")
        if region.get("from_name") not in (task_name, None):
            continue
        labels += list((region.get("value") or {}).get("choices", []))
    return labels


def _comment(result: list) -> str:
    """The comment box's text: a ``textarea`` result of the layout's comment control, its lines joined."""
    lines: list[str] = []
    for region in result or []:
        if isinstance(region, dict) and region.get("from_name") == COMMENT:
            text = (region.get("value") or {}).get("text") or []
            lines += [text] if isinstance(text, str) else [str(t) for t in text]
    return "\n".join(line for line in lines if line.strip())


def _annotator(value: object) -> str:
    if isinstance(value, dict):
        return str(value.get("email") or value.get("id"))
    return str(value) if value is not None else ""


def _prediction_id(value: object) -> int | None:
    """``parent_prediction`` as exported (an id; an object with one in other serializations)."""
    if isinstance(value, dict):
        value = value.get("id")
    try:
        return int(value) if value is not None and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None


def _predicted(task: dict, task_name: str, where: str) -> dict[int, Predicted]:
    """The task's predictions by id, to look an annotation's parent prediction up."""
    out: dict[int, Predicted] = {}
    for item in task.get("predictions") or []:
        pid = _prediction_id(item.get("id")) if isinstance(item, dict) else None
        if pid is not None:
            labels = _choices(item.get("result"), task_name, f"{where}, prediction {pid}")
            out[pid] = Predicted(str(item.get("model_version") or ""), frozenset(labels))
    return out


def provenance(item: dict, labels: list[str], predictions: dict[int, Predicted]) -> Provenance:
    """Whether an annotation started from a prediction, which one, and whether it kept its labels.

    Label Studio links an annotation made from a prediction by ``parent_prediction``; its
    editor also marks each result item ``origin: prediction`` (``prediction-changed`` once
    edited), but an annotation made through the API has only the link, so the labels decide:
    ``accepted`` iff they are the prediction's. Without the parent (a prediction deleted since,
    an old editor) the task's one prediction stands in, else the result's marks decide. A skip
    commits no labels, so it never accepted anything.
    """
    parent_id = _prediction_id(item.get("parent_prediction"))
    marks = {
        r["origin"]
        for r in item.get("result") or []
        if isinstance(r, dict) and isinstance(r.get("origin"), str)
    }
    if parent_id is None and not marks & _PREDICTED:
        return Provenance("from_scratch", "")
    if parent_id is not None:
        parent = predictions.get(parent_id)
    else:
        parent = next(iter(predictions.values())) if len(predictions) == 1 else None
    if parent is None:
        kept = marks == {"prediction"} and not item.get("was_cancelled")
        return Provenance("accepted" if kept else "changed", "")
    kept = frozenset(labels) == parent.labels and not item.get("was_cancelled")
    return Provenance("accepted" if kept else "changed", parent.model_version)


def _record(
    kind: str, item: dict, common: dict, labels: list[str], predictions: dict[int, Predicted]
) -> AnnotationRecord:
    cancelled = bool(item.get("was_cancelled", False))
    if kind == "prediction":
        annotator = str(item.get("model_version", ""))
        source = Provenance("", annotator)
    else:
        annotator = _annotator(item.get("user" if kind == "draft" else "completed_by"))
        source = provenance(item, labels, predictions)
    return AnnotationRecord(
        **common,
        kind=kind,
        record_id=int(item.get("id") or 0),
        annotator=annotator,
        labels=[] if cancelled else labels,  # a skip commits none of the pre-annotation LS kept
        lead_time=item.get("lead_time"),
        created_at=str(item.get("created_at") or ""),
        updated_at=str(item.get("updated_at") or ""),
        cancelled=cancelled,
        ground_truth=bool(item.get("ground_truth", False)),
        score=item.get("score"),
        origin=source.origin,
        model_version=source.model_version,
        comment="" if kind == "prediction" else _comment(item.get("result")),
    )


def normalize(
    tasks: list[dict], schema: Schema, task_name: str, project: str, where: str
) -> list[AnnotationRecord]:
    """Turn exported tasks into records; unknown labels and malformed items are errors naming the item."""
    spec = schema.task(task_name)
    codes = set(spec.codes)
    out: list[AnnotationRecord] = []
    for index, task in enumerate(tasks):
        loc = f"{where}: task #{index}"
        try:
            task_id, data = int(task["id"]), task["data"]
            article_id = str(data["article_id"])
        except (KeyError, TypeError, ValueError) as exc:
            raise NewslabError(f"{loc}: malformed export item (missing {exc}).") from None
        common = dict(
            project=project,
            task=task_name,
            task_id=task_id,
            article_id=article_id,
            text_hash=str(data.get("text_hash", "")),
            target=str(data.get("target", "")),
        )
        groups = (
            ("annotation", task.get("annotations") or []),
            ("draft", task.get("drafts") or []),
            ("prediction", task.get("predictions") or []),
        )
        predictions = _predicted(task, task_name, f"{loc} (task id {task_id})")
        for kind, items in groups:
            for item in items:
                if not isinstance(item, dict):
                    raise NewslabError(
                        f"{loc}: {kind} is {type(item).__name__}, not an object (export with full "
                        "serialization options)."
                    )
                item_loc = f"{loc} (task id {task_id}), {kind} {item.get('id')}"
                labels = _choices(item.get("result"), task_name, item_loc)
                unknown = [label for label in labels if label not in codes]
                if unknown:
                    raise NewslabError(
                        f"{item_loc}: unknown {task_name} label(s) {', '.join(map(repr, unknown))}; "
                        f"the schema allows {', '.join(spec.codes)}."
                    )
                out.append(_record(kind, item, common, labels, predictions))
    return out


def to_frame(records: list[AnnotationRecord]) -> pd.DataFrame:
    columns = list(AnnotationRecord.__dataclass_fields__)
    return pd.DataFrame([asdict(r) for r in records], columns=columns)


COMMITTABLE = [
    "project",
    "task",
    "article_id",
    "text_hash",
    "target",
    "annotator",
    "labels",
    "cancelled",
    "ground_truth",
    "origin",
    "model_version",
    "comment",
    "lead_time",
    "created_at",
    "updated_at",
]


def write_tables(frame: pd.DataFrame, task_name: str, settings: Settings | None = None) -> tuple[Path, Path]:
    """The long table (Parquet) and its committable form (JSONL, no text, submitted annotations only,
    with their provenance; a skip with no labels)."""
    settings = settings or get_settings()
    out = settings.annotations_dir
    out.mkdir(parents=True, exist_ok=True)
    parquet = out / f"{task_name}.parquet"
    with atomic_open(parquet) as fh:
        frame.to_parquet(fh, index=False)
    submitted = frame[frame["kind"] == "annotation"].sort_values(
        ["article_id", "target", "annotator", "created_at"]
    )
    lines = "".join(
        json.dumps({k: row[k] for k in COMMITTABLE}, ensure_ascii=False, default=str) + "\n"
        for row in submitted.to_dict("records")
    )
    jsonl = out / f"{task_name}.jsonl"
    atomic_write(jsonl, lines.encode("utf-8"))
    return parquet, jsonl


def pull(
    conn: Connection, schema: Schema, projects: list[ProjectRef], settings: Settings | None = None
) -> dict[str, tuple[pd.DataFrame, list[Snapshot]]]:
    """Snapshot every project and merge each task's projects (main + annotator siblings) into one table."""
    settings = settings or get_settings()
    out: dict[str, tuple[pd.DataFrame, list[Snapshot]]] = {}
    for task_name in sorted({p.task for p in projects}):
        records: list[AnnotationRecord] = []
        snapshots = []
        for project in [p for p in projects if p.task == task_name]:
            snap = export_snapshot(conn, project, settings)
            snapshots.append(snap)
            records += normalize(read_snapshot(snap.path), schema, task_name, project.title, str(snap.path))
        frame = to_frame(records)
        write_tables(frame, task_name, settings)
        out[task_name] = (frame, snapshots)
    return out
