"""YAML option files (``--config``) and the literals used for vectors and matrices."""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlvcli.errors import InputError


@dataclass(frozen=True)
class ConfigEntry:
    key: str
    value: Any
    line: int


def read_text(path: str) -> str:
    """Read a whole text file (``-`` is standard input), BOM removed, as InputError on failure."""
    if path == "-":
        data = sys.stdin.buffer.read()
    else:
        p = Path(path)
        if p.is_dir():
            raise InputError("is a directory, expected a file", file=path)
        try:
            data = p.read_bytes()
        except FileNotFoundError:
            raise InputError("no such file", file=path) from None
        except OSError as exc:
            raise InputError(f"cannot read: {exc.strerror or exc}", file=path) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start})", file=path) from None


def _yaml_error(path: str, exc: Exception) -> InputError:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    if mark is not None:
        return InputError(f"invalid YAML: {problem}", file=path, line=mark.line + 1, column=mark.column + 1)
    return InputError(f"invalid YAML: {problem}", file=path)


def load_yaml(text: str, path: str) -> tuple[Any, Any]:
    """Parse YAML text; return (value, node) so callers can point at lines."""
    import yaml

    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        value = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise _yaml_error(path, exc) from None
    return value, node


def load_option_file(path: str) -> list[ConfigEntry]:
    """Load a ``--config`` file: a mapping from option names to values, with each key's line."""
    text = read_text(path)
    value, node = load_yaml(text, path)
    if value is None:
        return []
    if not isinstance(value, dict):
        raise InputError(
            f"expected a mapping of option names to values, got a {type(value).__name__}", file=path, line=1
        )
    lines = {}
    for key_node, _ in node.value:
        lines.setdefault(str(key_node.value), key_node.start_mark.line + 1)
    return [ConfigEntry(str(k), v, lines.get(str(k), 1)) for k, v in value.items()]


def check_finite(value: float, what: str) -> float:
    if not math.isfinite(value):
        raise InputError(f"{what} is {value}, expected a finite number")
    return value
