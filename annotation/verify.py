"""`newslab annotate verify`: every pulled snapshot and table checked, offline.

Snapshots are immutable records of what Label Studio held; the tables are what agreement, gold
labels and datasets read. A hand edit, a label the schema does not define, or an item pushed
twice (two concurrent pushes) would otherwise flow silently into agreement and a new dataset
fingerprint. Each file gets a row per check: its sha256 against the one recorded at pull
time, its labels against the schema, and its tasks for duplicates.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from annotation.pull import recorded_sha256
from annotation.push import find_duplicates
from annotation.tables import read_annotations
from core.errors import NewslabError
from core.schema import Schema


@dataclass(frozen=True)
class Check:
    file: Path
    check: str  #: checksum, labels, duplicates, table
    ok: bool
    detail: str = ""


def _checksum(path: Path, raw: bytes) -> Check:
    recorded = recorded_sha256(path)
    if recorded is None:
        return Check(
            path, "checksum", False, f"no {path.name}.sha256 beside it: cannot tell if it was edited"
        )
    if recorded != hashlib.sha256(raw).hexdigest():
        return Check(path, "checksum", False, "edited after it was pulled (sha256 differs); pull again")
    return Check(path, "checksum", True, f"sha256 {recorded[:16]}…")


def _choices(tasks: list) -> list[tuple[str, str, str]]:
    """(where, schema task, label) of every choice in the export's annotations, drafts and predictions."""
    out = []
    for task in tasks:
        for kind in ("annotations", "drafts", "predictions"):
            for item in task.get(kind) or []:
                if not isinstance(item, dict):
                    continue
                who = item.get("completed_by") or item.get("user") or item.get("model_version") or "?"
                who = who.get("email", who.get("id")) if isinstance(who, dict) else who
                where = f"task {task.get('id')}, {kind[:-1]} {item.get('id')} by {who}"
                for region in item.get("result") or []:
                    if isinstance(region, dict):
                        for label in (region.get("value") or {}).get("choices", []):
                            out.append((where, str(region.get("from_name")), label))
    return out


def _labels(path: Path, tasks: list, schema: Schema) -> Check:
    problems = [
        f"{where}: unknown {name} label {label!r} (schema: {', '.join(schema.task(name).codes)})"
        for where, name, label in _choices(tasks)
        if name in schema.tasks and label not in schema.task(name).codes
    ]
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        return Check(path, "labels", False, problems[0] + more)
    return Check(path, "labels", True)


def _duplicates(path: Path, tasks: list) -> Check:
    listed = [(int(t.get("id") or 0), t.get("data") or {}) for t in tasks]
    found = find_duplicates(listed)
    if found:
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        return Check(path, "duplicates", False, f"{len(found)} item(s) with several tasks: {found[0]}{more}")
    return Check(path, "duplicates", True, f"{len(listed):,} tasks")


def verify_snapshot(path: Path, schema: Schema) -> list[Check]:
    """Checksum, labels and duplicate tasks of one snapshot."""
    raw = path.read_bytes()
    checks = [_checksum(path, raw)]
    try:
        tasks = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return [*checks, Check(path, "labels", False, f"not a JSON export ({exc})")]
    if not isinstance(tasks, list) or not all(isinstance(t, dict) for t in tasks):
        return [*checks, Check(path, "labels", False, "not a list of tasks")]
    return [*checks, _labels(path, tasks, schema), _duplicates(path, tasks)]


def verify_annotations(annotations_dir: Path, schema: Schema) -> list[Check]:
    """Every snapshot under ``snapshots/`` and every task table (Parquet, else its JSONL form)."""
    out: list[Check] = []
    for path in sorted((annotations_dir / "snapshots").glob("*.json")):
        out += verify_snapshot(path, schema)
    for task in schema.tasks:
        table = annotations_dir / f"{task}.parquet"
        if not (table.is_file() or table.with_suffix(".jsonl").is_file()):
            continue
        shown = table if table.is_file() else table.with_suffix(".jsonl")
        try:
            frame = read_annotations(table, schema, task)
        except NewslabError as exc:
            out.append(Check(shown, "table", False, exc.message))
        else:
            out.append(Check(shown, "table", True, f"{len(frame):,} rows"))
    return out
