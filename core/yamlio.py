"""Reading YAML and validating it into pydantic models, with errors that name the file and key."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from core.errors import NewslabError

M = TypeVar("M", bound=BaseModel)


def read_yaml(path: Path) -> Any:
    """Parse a YAML file; a missing file or a syntax error becomes a NewslabError."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NewslabError(f"{path}: file not found.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise NewslabError(f"{path}: cannot be read ({exc}).") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise NewslabError(
            f"{path}:{where}: not valid YAML ({problem}).", "Fix the syntax and try again."
        ) from None


def format_validation_error(path: Path, exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        lines.append(f"  {key}: {err['msg']}")
    return f"{path}: invalid content\n" + "\n".join(lines)


def load_model(path: Path, model: type[M], data: Any = None) -> M:
    """Validate the YAML at ``path`` (or already parsed ``data``) into ``model``."""
    path = Path(path)
    if data is None:
        data = read_yaml(path)
    if data is None:
        raise NewslabError(f"{path}: the file is empty.")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise NewslabError(format_validation_error(path, exc)) from None
