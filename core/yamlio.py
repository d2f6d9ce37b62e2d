"""Reading YAML and validating it into pydantic models, with errors that name the file and key."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from core.errors import NewslabError

M = TypeVar("M", bound=BaseModel)


class DuplicateKeyError(yaml.MarkedYAMLError):
    """A mapping that repeats a key: PyYAML would silently keep the last one."""

    def __init__(self, node: yaml.Node, key: Any, first: yaml.Node, again: yaml.Node) -> None:
        super().__init__(
            "while constructing a mapping", node.start_mark, f"duplicate key {key!r}", again.start_mark
        )
        self.key = key
        self.first_line = first.start_mark.line + 1


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate mapping keys, so a repeated task or option cannot hide another."""

    def construct_mapping(self, node: yaml.Node, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, yaml.Node] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue  # keys brought in by `<<:` may be overridden: that is what merging is for
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.setdefault(key, key_node)
                except TypeError:
                    continue  # unhashable: SafeLoader reports it itself
                if first is not key_node:
                    raise DuplicateKeyError(node, key, first, key_node)
        return super().construct_mapping(node, deep=deep)


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
        return yaml.load(text, Loader=_StrictLoader)
    except DuplicateKeyError as exc:
        assert exc.problem_mark is not None and exc.context_mark is not None
        key = ".".join(filter(None, [_key_path(text, exc.context_mark), str(exc.key)]))
        line = exc.problem_mark.line + 1
        raise NewslabError(
            f"{path}: line {line}: duplicate key {key} (first on line {exc.first_line}).",
            "Remove or merge one of them: YAML would silently keep only the last.",
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise NewslabError(
            f"{path}:{where}: not valid YAML ({problem}).", "Fix the syntax and try again."
        ) from None


def _key_path(text: str, mark: yaml.Mark) -> str:
    """The dotted key path (``tasks.stance``) of the mapping that starts at ``mark``."""

    def walk(node: yaml.Node, path: list[str]) -> str | None:
        if node.start_mark.index == mark.index and isinstance(node, yaml.MappingNode):
            return ".".join(path)
        children: list[tuple[str, yaml.Node]] = []
        if isinstance(node, yaml.MappingNode):
            children = [(str(k.value), v) for k, v in node.value]
        elif isinstance(node, yaml.SequenceNode):
            children = [(str(i), v) for i, v in enumerate(node.value)]
        for key, child in children:
            if child.start_mark.index <= mark.index <= child.end_mark.index:
                found = walk(child, [*path, key])
                if found is not None:
                    return found
        return None

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return ""
    return (walk(root, []) or "") if root is not None else ""


def format_validation_error(path: Path, exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        lines.append(f"  {key}: {err['msg']}")
    return f"{path}: invalid content\n" + "\n".join(lines)


def load_model(path: Path, model: type[M], data: Any = None, context: dict[str, Any] | None = None) -> M:
    """Validate the YAML at ``path`` (or already parsed ``data``) into ``model``.

    ``context`` reaches the model's validators (e.g. the folder relative paths are resolved in).
    """
    path = Path(path)
    if data is None:
        data = read_yaml(path)
    if data is None:
        raise NewslabError(f"{path}: the file is empty.")
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        raise NewslabError(format_validation_error(path, exc)) from None
