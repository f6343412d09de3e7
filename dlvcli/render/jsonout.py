"""The JSON document every command prints with ``--format json``."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import dlvcli


class PlainRows(list):
    """A list of rows a renderer built from plain Python values only: dicts with ``str``
    keys and ``str``/``int``/``float``/``bool``/``None`` values.

    :func:`json_document` hands it to the encoder as it is, instead of converting each
    value (200,000 focal rows: most of the JSON time).  A non-finite float in it, or
    anything else the encoder refuses, sends the whole document through the converter
    that names each null, so the output is the same either way.
    """

    __slots__ = ()


class _NonFinite(Exception):
    """A non-finite float was met: convert again, this time keeping the key paths."""


def _plain(value: Any) -> Any:
    """:func:`json_safe` without key paths (building one per value is most of the cost)."""
    kind = type(value)
    if kind is PlainRows:
        return value
    if kind is float:
        if value - value == 0.0:  # finite (inf − inf and nan − nan are nan)
            return value
        raise _NonFinite
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is list or kind is tuple:
        return [_plain(v) for v in value]
    if kind is dict:
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, Fraction):
        return str(value)
    if isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, float):
        return _plain(float(value))
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "tolist"):
        return _plain(value.tolist())
    if hasattr(value, "__float__"):
        return _plain(float(value))
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def json_safe(value: Any, path: str, warnings: list[str]) -> Any:
    """Convert numpy values, tuples and fractions to JSON types; non-finite floats become null.

    Every null that stands for a non-finite number is named in ``warnings`` by its
    dotted key path, as the contract asks.
    """
    try:
        return _plain(value)
    except (_NonFinite, TypeError):
        return _json_safe_with_paths(value, path, warnings)


def _json_safe_with_paths(value: Any, path: str, warnings: list[str]) -> Any:
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
        return {str(k): _json_safe_with_paths(v, f"{path}.{k}" if path else str(k), warnings) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe_with_paths(v, f"{path}.{i}", warnings) for i, v in enumerate(value)]
    # numpy scalars and arrays, without importing numpy here
    if hasattr(value, "tolist"):
        return _json_safe_with_paths(value.tolist(), path, warnings)
    if hasattr(value, "__float__"):
        return _json_safe_with_paths(float(value), path, warnings)
    raise TypeError(f"cannot write {type(value).__name__} at {path} as JSON")


def json_document(command: str, inputs: dict, payload: dict, warnings: list[str]) -> str:
    """The envelope (command, dlv_version, inputs, warnings) followed by the command's keys."""
    import json  # here: text and Markdown output never load it

    extra: list[str] = []
    body = {
        "command": command,
        "dlv_version": dlvcli.__version__,
        "inputs": json_safe(inputs, "inputs", extra),
    }
    body.update(json_safe(payload, "", extra))
    body["warnings"] = list(warnings) + extra
    try:
        return json.dumps(body, ensure_ascii=False, allow_nan=False)
    except (ValueError, TypeError):
        if not _holds_plain_rows(payload):
            raise
    # PlainRows held a non-finite float (or a value the encoder refuses): convert value by value
    extra = []
    body = {"command": command, "dlv_version": dlvcli.__version__, "inputs": json_safe(inputs, "inputs", extra)}
    body.update(_json_safe_with_paths(payload, "", extra))
    body["warnings"] = list(warnings) + extra
    return json.dumps(body, ensure_ascii=False, allow_nan=False)


def _holds_plain_rows(value: Any) -> bool:
    if type(value) is PlainRows:
        return True
    if isinstance(value, dict):
        return any(_holds_plain_rows(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_holds_plain_rows(v) for v in value if isinstance(v, (dict, list, tuple)))
    return False
