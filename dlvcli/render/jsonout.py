"""The JSON document every command prints with ``--format json``."""

from __future__ import annotations

import json
import math
from fractions import Fraction
from typing import Any

import dlvcli


def json_safe(value: Any, path: str, warnings: list[str]) -> Any:
    """Convert numpy values, tuples and fractions to JSON types; non-finite floats become null.

    Every null that stands for a non-finite number is named in ``warnings`` by its
    dotted key path, as the contract asks.
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, Fraction):
        return str(value)
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        warnings.append(f"{path} is {value} (not finite), written as null")
        return None
    if isinstance(value, dict):
        return {str(k): json_safe(v, f"{path}.{k}" if path else str(k), warnings) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v, f"{path}.{i}", warnings) for i, v in enumerate(value)]
    # numpy scalars and arrays, without importing numpy here
    if hasattr(value, "tolist"):
        return json_safe(value.tolist(), path, warnings)
    if hasattr(value, "__float__"):
        return json_safe(float(value), path, warnings)
    raise TypeError(f"cannot write {type(value).__name__} at {path} as JSON")


def json_document(command: str, inputs: dict, payload: dict, warnings: list[str]) -> str:
    """The envelope (command, dlv_version, inputs, warnings) followed by the command's keys."""
    extra: list[str] = []
    body = {
        "command": command,
        "dlv_version": dlvcli.__version__,
        "inputs": json_safe(inputs, "inputs", extra),
    }
    body.update(json_safe(payload, "", extra))
    body["warnings"] = list(warnings) + extra
    return json.dumps(body, ensure_ascii=False, allow_nan=False)
