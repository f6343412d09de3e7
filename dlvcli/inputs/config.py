"""YAML option files (``--config``) and the literals used for vectors and matrices."""

from __future__ import annotations

import math
import os
import sys
from dataclasses import dataclass
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
        if os.path.isdir(path):  # (os, not pathlib: a plain run need not import it)
            raise InputError("is a directory, expected a file", file=path)
        try:
            with open(path, "rb") as handle:
                data = handle.read()
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


# Limits on a YAML document (a --config file, a sheet, a literal on the command line).
# dlv's values are numbers, vectors and matrices: nothing needs more than a few levels.
MAX_YAML_DEPTH = 100
# Aliases (*name) may add at most this many values to what the file spells out: a
# "billion laughs" file of 700 bytes would otherwise expand to 10^9 values.
MAX_ALIAS_VALUES = 100_000

_JSON_SCALAR_TAGS = frozenset(
    "tag:yaml.org,2002:" + t for t in ("str", "int", "float", "bool", "null", "merge")
)
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MAP_TAG = "tag:yaml.org,2002:map"
_TAG_NAMES = {
    "tag:yaml.org,2002:timestamp": "a date or time",
    "tag:yaml.org,2002:set": "a set (!!set)",
    "tag:yaml.org,2002:binary": "binary data (!!binary)",
    "tag:yaml.org,2002:omap": "an ordered map (!!omap)",
    "tag:yaml.org,2002:pairs": "a list of pairs (!!pairs)",
    "tag:yaml.org,2002:value": "a value key (=)",
}


def _place(path: list) -> str:
    """``['gamma', 0, 3]`` → ``key 'gamma'``; ``[2, 'expect', 'ap']`` → ``item 3, key 'expect'``."""
    words = []
    for part in path[:2]:
        words.append(f"item {part + 1}" if isinstance(part, int) else f"key {part!r}")
        if not isinstance(part, int):
            break
    return ", ".join(words) or "the document"


def check_yaml_nodes(root: Any, path: str) -> None:
    """Refuse what is not a JSON value before it is built: tags, over-deep nesting, alias bombs.

    Walks the composed node graph without recursion.  A node reached a second time is an
    alias; the values it adds are counted against :data:`MAX_ALIAS_VALUES`, and a node that
    contains itself is refused.  Raises :class:`InputError` naming the key and line.
    """
    from yaml.nodes import MappingNode, ScalarNode, SequenceNode

    done: dict[int, tuple[int, int]] = {}  # id(node) -> (depth below it, values it expands to)
    parents: dict[int, tuple[int | None, Any, int]] = {}  # id(node) -> (id(parent), key or index, line)
    started: set[int] = set()
    alias_values = 0

    def where(node_id: int | None, extra: list | None = None) -> tuple[list, int]:
        parts, line = list(extra or []), None
        while node_id is not None and node_id in parents:
            parent_id, part, part_line = parents[node_id]
            if part is not None:
                parts.insert(0, part)
            line = part_line if line is None else line
            node_id = parent_id
        return parts, line or 1

    def fail(message: str, node_id: int, node: Any = None, extra: list | None = None, line: int | None = None) -> None:
        parts, found_line = where(node_id, extra)
        column = None
        if node is not None and line is None:
            found_line, column = node.start_mark.line + 1, node.start_mark.column + 1
        raise InputError(f"{_place(parts)}: {message}", file=path, line=line or found_line, column=column)

    def children(node: Any) -> list[tuple[Any, Any, int]]:
        if isinstance(node, SequenceNode):
            return [(child, i, child.start_mark.line + 1) for i, child in enumerate(node.value)]
        if isinstance(node, MappingNode):
            out = []
            for key, value in node.value:
                label = key.value if isinstance(key, ScalarNode) else None
                out.append((key, None, key.start_mark.line + 1))
                out.append((value, label, key.start_mark.line + 1))
            return out
        return []

    def check_tag(node: Any, node_id: int) -> None:
        allowed = (
            _JSON_SCALAR_TAGS if isinstance(node, ScalarNode) else {_SEQ_TAG} if isinstance(node, SequenceNode) else {_MAP_TAG}
        )
        if node.tag == "tag:yaml.org,2002:int" and len(node.value) > 4000:
            fail(f"a whole number of {len(node.value)} digits, expected at most 4000", node_id, node)
        if node.tag not in allowed:
            what = _TAG_NAMES.get(node.tag, f"a value tagged {node.tag.replace('tag:yaml.org,2002:', '!!')}")
            shown = f" ({node.value})" if isinstance(node, ScalarNode) and len(str(node.value)) <= 40 else ""
            fail(
                f"{what}{shown} is not a plain value; expected a number, text, true/false, null, a list or a mapping"
                + (" (quote it to give it as text)" if isinstance(node, ScalarNode) else ""),
                node_id,
                node,
            )

    parents[id(root)] = (None, None, root.start_mark.line + 1)
    if isinstance(root, ScalarNode):
        check_tag(root, id(root))
        return
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        node_id = id(node)
        kids = children(node)
        if finished:
            depth, size = 1, 1
            for child, _, _ in kids:
                child_depth, child_size = done.get(id(child), (1, 1))  # scalars are not recorded
                depth = max(depth, child_depth + 1)
                size += child_size
            done[node_id] = (depth, size)
            started.discard(node_id)
            if depth > MAX_YAML_DEPTH:
                fail(f"nested more than {MAX_YAML_DEPTH} levels deep, expected a number, vector or matrix", node_id, node)
            continue
        if node_id in started:
            fail("an alias that contains itself (a recursive structure), expected plain values", node_id, node)
        started.add(node_id)
        check_tag(node, node_id)
        stack.append((node, True))
        for child, part, line in kids:
            child_id = id(child)
            if isinstance(child, ScalarNode):
                if child.tag not in _JSON_SCALAR_TAGS or (child.tag == "tag:yaml.org,2002:int" and len(child.value) > 4000):
                    parents.setdefault(child_id, (node_id, part, line))
                    check_tag(child, child_id)
                continue
            if child_id in done:  # an alias to a finished node: its values are copied here
                alias_values += done[child_id][1]
                if alias_values > MAX_ALIAS_VALUES:
                    parts, _ = where(node_id, [part] if part is not None else [])
                    raise InputError(
                        f"{_place(parts)}: aliases (*name) expand to more than {MAX_ALIAS_VALUES:,} values",
                        file=path,
                        line=line,
                        expected="each value written out, or fewer aliases",
                    )
                continue
            if child_id not in parents:
                parents[child_id] = (node_id, part, line)
            stack.append((child, False))


def load_yaml(text: str, path: str) -> tuple[Any, Any]:
    """Parse YAML text once; return (value, node) so callers can point at lines.

    libyaml composes when it is there (the pure-Python parser is ten times slower on a
    400×400 matrix); :func:`check_yaml_nodes` refuses non-JSON values, deep nesting and
    alias bombs before anything is built.
    """
    import yaml
    from yaml.constructor import SafeConstructor

    loader = getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader
    try:
        node = yaml.compose(text, Loader=loader)
        if node is None:
            return None, None
        check_yaml_nodes(node, path)
        value = SafeConstructor().construct_document(node)
    except yaml.YAMLError as exc:
        raise _yaml_error(path, exc) from None
    except RecursionError:  # the pure-Python composer recurses once per level
        raise InputError(f"nested more than {MAX_YAML_DEPTH} levels deep", file=path) from None
    except InputError:
        raise
    except ValueError as exc:  # int() of a 5000-digit number, and the like
        raise InputError(f"invalid YAML value: {exc}", file=path) from None
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
