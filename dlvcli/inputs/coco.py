"""COCO files (docs/interp-ap.md, mode C): the annotation JSON and the results JSON list → arrays.

``load_coco(gt_path, results_path)`` reads and checks both files and returns a
:class:`dlvcli.core.coco.CocoData`.  Parsing uses ``orjson`` when it is installed (about
four times faster on large result files) and the standard library otherwise; a file
that ``orjson`` rejects is parsed again with the standard library, so the error message
and its line and column are always the standard ones (and ``NaN`` literals, which only
the standard library reads, reach the finiteness check with their entry number).

A results file of 1 MiB or more is first decoded by ``msgspec`` straight into typed
records (integer ids, four numbers per box, a number for the score) and turned into
columns (:func:`_typed_results`: 0.35 s of CPU instead of 0.84 s on a 45 MiB file).  It
answers only when it can answer exactly as the path above does; anything else (string
ids, a wrong type, a missing field, ``NaN``, malformed JSON, a value that fails a check)
goes to the ordinary path, whose messages are the reference.

Without ``msgspec`` (or when it does not answer), ``load_coco(..., split=True)`` (the
CLI) reads a results file of 8 MiB or more in two halves at once with orjson, the
second in a forked child process; whenever the halves do not both parse and convert
cleanly the file is read in one piece, so every answer and every error is the
one-piece one.

Every fault is an :class:`~dlvcli.errors.InputError` naming the file and, for an entry,
its 0-based position in the list (``entry 12``; ``annotations entry 3`` in the
ground-truth file).  Checks are vectorised; the slow search for the exact entry runs
only once a fault is known to exist.
"""

from __future__ import annotations

import contextlib
import gc
import json
from typing import Any

import numpy as np

from dlvcli.core.coco import CocoData
from dlvcli.errors import InputError
from dlvcli.inputs.config import read_text

__all__ = ["CocoData", "load_coco", "coco_data", "parse_json"]

_NUMBER_TYPES = (int, float)


def parse_json(path: str, text: str | None = None) -> Any:
    """Parse a JSON file (``-`` is standard input); malformed JSON → InputError with line and column."""
    if text is None:
        text = read_text(path)
    try:
        import orjson
    except ImportError:  # the standard library is the fallback
        orjson = None
    if orjson is not None:
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass  # parse again below for the standard message (or for NaN / huge integers)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON: {exc.msg}", file=path, line=exc.lineno, column=exc.colno) from None
    except RecursionError:
        raise InputError("invalid JSON: nested too deeply", file=path) from None


def load_coco(gt_path: str, results_path: str, *, split: bool = False) -> CocoData:
    """Read a COCO annotation file and a COCO results file (a JSON list) into a CocoData.

    A results file of 1 MiB or more is decoded by ``msgspec`` straight into typed records
    (:func:`_typed_results`) when it is installed.  Without ``msgspec`` (or when that
    does not answer), ``split`` (the CLI's choice) has a file of 8 MiB or more parsed by
    orjson in two halves at once, one in a forked process (:func:`_split_results`).
    Whenever neither gives a clean answer the file is read the ordinary way (orjson,
    then the checks), so results and errors are the same.

    >>> # load_coco("instances_val2017.json", "detections.json")  # doctest: +SKIP
    """
    with _gc_paused():
        gt = parse_json(gt_path)
        columns = _typed_results(results_path)
        if columns is None and split:
            columns = _split_results(results_path)
        if columns is not None:
            try:
                return coco_data(gt, None, gt_path=gt_path, results_path=results_path, result_columns=columns)
            except InputError:
                pass  # the ordinary path below reports it, exactly as always
        results = parse_json(results_path)
        return coco_data(gt, results, gt_path=gt_path, results_path=results_path)


#: Results files shorter than this are read the ordinary way (``msgspec`` and its checks cost more than they save).
TYPED_MIN_BYTES = 1 << 20
_TYPED_DECODER = None


def _typed_decoder():
    """A ``msgspec`` decoder of a COCO results list straight into typed records (made once, on first use)."""
    global _TYPED_DECODER
    if _TYPED_DECODER is None:
        import msgspec

        class Detection(msgspec.Struct, gc=False):
            """One results entry: the four fields dlv reads, strictly typed; other fields are skipped."""

            image_id: int
            category_id: int
            bbox: tuple[float, float, float, float]
            score: float

        _TYPED_DECODER = msgspec.json.Decoder(list[Detection])
    return _TYPED_DECODER


def _have_msgspec() -> bool:
    try:
        import msgspec  # noqa: F401
    except ImportError:
        return False
    return True


def _results_bytes(path: str, min_bytes: int):
    """The results file's bytes (byte-order mark dropped) as a buffer, or None: standard input, smaller than ``min_bytes``, unreadable, not UTF-8.

    The file is memory-mapped rather than read: its pages come straight from the page
    cache instead of being copied into fresh memory (45 MiB: ≈ 11,000 fewer page
    faults).  The ordinary path reads (and, if need be, reports) whatever gives None.
    ``msgspec`` does not check the UTF-8 inside fields it skips, so that is checked
    here, as read_text does.
    """
    import mmap
    import os

    if path == "-":
        return None  # standard input can be read only once
    try:
        if os.path.getsize(path) < min_bytes:
            return None
        with open(path, "rb") as handle:
            mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError):
        return None
    data = memoryview(mapped)
    if data[:3] == b"\xef\xbb\xbf":
        data = data[3:]  # a UTF-8 byte-order mark, as read_text drops it
    if len(data) and np.frombuffer(data, dtype=np.uint8).max() >= 0x80:  # not ASCII: is it UTF-8?
        try:
            str(data, "utf-8")
        except UnicodeDecodeError:
            return None
    return data


def _typed_results(path: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """The results list's four columns via ``msgspec`` (a typed decode); None whenever that is not clean.

    ``msgspec`` decodes the file straight into small typed records (integer ids, four
    numbers per box, a number for the score; other fields skipped), about half of
    orjson's time on a 45 MiB file, and without the half million dicts the columns are
    then picked out of.  It only takes the cases it can answer exactly as the ordinary
    path does: any decode or type error (string ids, a missing field, ``NaN``, a
    number out of range, malformed JSON …), an id outside int64, a box or score that
    is not finite or a negative width or height gives None, and the caller reads the
    file the ordinary way, which names the fault with its entry, line and column
    exactly as always.  Also None for standard input, small files, bytes that are not
    UTF-8, or without ``msgspec``.
    """
    if not _have_msgspec():
        return None
    data = _results_bytes(path, TYPED_MIN_BYTES)
    if data is None:
        return None
    try:
        return _typed_columns(data)
    finally:
        data.release()  # the records hold no reference into the mapped file, which can now be unmapped


def _typed_columns(data: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """JSON text of a results list → image ids, category ids, boxes (N, 4) and scores; None when any check fails."""
    from itertools import chain
    from operator import attrgetter

    import msgspec

    try:
        entries = _typed_decoder().decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    n = len(entries)
    try:
        image_ids = np.fromiter(map(attrgetter("image_id"), entries), dtype=np.int64, count=n)
        category_ids = np.fromiter(map(attrgetter("category_id"), entries), dtype=np.int64, count=n)
    except OverflowError:  # msgspec reads any integer; ids must fit int64
        return None
    boxes = np.fromiter(chain.from_iterable(map(attrgetter("bbox"), entries)), dtype=float, count=4 * n).reshape(n, 4)
    scores = np.fromiter(map(attrgetter("score"), entries), dtype=float, count=n)
    if not (np.isfinite(boxes).all() and np.isfinite(scores).all()) or (boxes[:, 2:] < 0).any():
        return None
    return image_ids, category_ids, boxes, scores


#: Results files shorter than this are parsed in one piece (forking costs more than it saves).
SPLIT_MIN_BYTES = 8 << 20
# the boundary between two entries of the results list: "}" "," "{" with JSON whitespace
_ENTRY_BOUNDARY = None


def _split_results(path: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """Parse and convert the results list in two halves at once (two cores); None when not possible.

    The text is cut at the first ``}, {`` after its middle into ``text[:comma] + "]"`` and
    ``"[" + text[comma + 1:]``.  If both halves parse, the cut was between two entries of
    the top-level list (a cut inside a string leaves the first half's string open; one
    inside a nested list or object leaves a bracket open), so the two lists are the
    original one in two pieces.  A forked child parses the second half and sends back
    its four columns (:func:`_result_columns`); the parent does the first.  Anything
    unusual — no orjson, no fork (not Linux), one core, a small file, standard input,
    either half failing to parse or to convert — gives None, and the caller reads the
    file in one piece, which then names the error exactly as always.
    """
    import os
    import pickle
    import re
    import sys

    global _ENTRY_BOUNDARY
    if path == "-" or not sys.platform.startswith("linux") or (os.cpu_count() or 1) < 2 or not hasattr(os, "fork"):
        return None
    try:
        import orjson
    except ImportError:
        return None
    try:
        if os.path.getsize(path) < SPLIT_MIN_BYTES:
            return None
    except OSError:
        return None
    text = read_text(path)
    if _ENTRY_BOUNDARY is None:
        _ENTRY_BOUNDARY = re.compile(r"\}[ \t\n\r]*,[ \t\n\r]*\{")
    match = _ENTRY_BOUNDARY.search(text, len(text) // 2)
    if match is None:
        return None
    comma = text.index(",", match.start())
    first, second = text[:comma] + "]", "[" + text[comma + 1 :]
    del text
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: the second half, its columns pickled into the pipe
        code = 1
        try:
            os.close(read_end)
            part = orjson.loads(second)
            blob = pickle.dumps(_result_columns(part, path), protocol=pickle.HIGHEST_PROTOCOL)
            with os.fdopen(write_end, "wb") as out:
                out.write(blob)
            code = 0
        except BaseException:  # noqa: BLE001 - any failure means "read it the ordinary way"
            pass
        finally:
            os._exit(code)
    os.close(write_end)
    mine = None
    try:
        try:
            part = orjson.loads(first)
            del first
            mine = _result_columns(part, path) if isinstance(part, list) else None
            del part
        except (orjson.JSONDecodeError, InputError):
            mine = None
        if mine is None:
            import signal

            os.kill(pid, signal.SIGKILL)
            return None
        with os.fdopen(read_end, "rb") as inp:
            blob = inp.read()
    finally:
        _, status = os.waitpid(pid, 0)
    if status != 0 or not blob:
        return None
    theirs = pickle.loads(blob)
    if any(a.dtype.kind != b.dtype.kind for a, b in zip(mine, theirs)):
        return None  # e.g. integer ids in one half, string ids in the other: an error, reported in one piece
    return tuple(np.concatenate((a, b)) for a, b in zip(mine, theirs))  # type: ignore[return-value]


def _result_columns(results: list, path: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A results list's image ids, category ids, boxes (N, 4) and scores, checked as :func:`coco_data` does."""
    _check_objects(results, path, "")
    image_ids = _ids(_required(results, "image_id", path, ""), "image_id", path, "")
    category_ids = _ids(_required(results, "category_id", path, ""), "category_id", path, "")
    boxes = _boxes(_required(results, "bbox", path, ""), path, "")
    scores = _numbers(_required(results, "score", path, ""), "score", path, "")
    return image_ids, category_ids, boxes, scores


def reuse_freed_memory() -> bool:
    """Ask glibc's allocator to keep freed memory for reuse (a process-wide setting; the CLI calls it).

    An evaluation allocates and frees many arrays of a few to a few hundred MiB.  By
    default glibc serves each from fresh ``mmap`` pages (or trims the heap after a
    free), so the kernel zero-fills and maps the same amount of memory again and again:
    on the 500,000-detection benchmark that is about 0.25 s of system time, a sixth of
    the run.  Raising ``M_MMAP_THRESHOLD`` and ``M_TRIM_THRESHOLD`` (``mallopt(3)``) lets
    freed blocks be reused instead, for about 12 % more peak memory.  Returns whether
    the setting was applied (False off glibc, e.g. on macOS, Windows or musl).
    """
    import sys

    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3  # <malloc.h>
    return bool(mallopt(m_mmap_threshold, 1 << 30)) and bool(mallopt(m_trim_threshold, (1 << 31) - 1))


@contextlib.contextmanager
def _gc_paused():
    """Pause the cyclic garbage collector while half a million dicts are made.

    JSON objects hold no reference cycles, but each new container counts towards the
    collector's thresholds, and the full collections it then runs over the growing heap
    cost more than the parse itself (orjson: 0.9 s → 0.3 s on a 45 MiB results file).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# ------------------------------------------------------------------------- helpers


def _fail(path: str, section: str, index: int | None, message: str, expected: str | None = None) -> InputError:
    where = f"{section}entry {index}: " if index is not None else (f"{section.strip()}: " if section else "")
    return InputError(where + message, file=path, expected=expected)


def _check_objects(entries: list, path: str, section: str) -> None:
    if set(map(type, entries)) - {dict}:
        i = next(i for i, e in enumerate(entries) if not isinstance(e, dict))
        raise _fail(path, section, i, f"expected a JSON object, got {_kind(entries[i])}")


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _required(entries: list[dict], key: str, path: str, section: str) -> list:
    try:
        return [e[key] for e in entries]
    except KeyError:
        i = next(i for i, e in enumerate(entries) if key not in e)
        raise _fail(path, section, i, f"missing {key!r}") from None


def _numbers(values: list, key: str, path: str, section: str) -> np.ndarray:
    """A list of JSON numbers → float array; anything else, or NaN/infinity, names its entry."""
    if set(map(type, values)) - set(_NUMBER_TYPES):
        i = next(i for i, v in enumerate(values) if type(v) not in _NUMBER_TYPES)
        raise _fail(path, section, i, f"{key!r} is {_kind(values[i])}", expected="a number")
    try:
        array = np.fromiter(values, dtype=float, count=len(values))
    except OverflowError:
        i = next(i for i, v in enumerate(values) if isinstance(v, int) and abs(v) > 1e308)
        raise _fail(path, section, i, f"{key!r} is too large") from None
    bad = ~np.isfinite(array)
    if bad.any():
        i = int(np.argmax(bad))
        raise _fail(path, section, i, f"{key!r} is {array[i]}, expected a finite number")
    return array


def _boxes(values: list, path: str, section: str) -> np.ndarray:
    """``bbox`` lists ``[x, y, w, h]`` → (N, 4) float array, w and h ≥ 0 and every number finite.

    numpy's own type inference is the fast check: a list of four-number lists becomes a
    float or integer (N, 4) array, while a string, null, nested list or wrong length gives
    another dtype or shape (or an error), and only then are the entries searched one by
    one for the first bad one.
    """
    if not values:
        return np.zeros((0, 4))
    try:
        boxes = np.array(values)
    except (ValueError, TypeError, OverflowError):
        boxes = None
    if boxes is None or boxes.ndim != 2 or boxes.shape[1] != 4 or boxes.dtype.kind not in "iuf":
        for i, v in enumerate(values):
            if not (isinstance(v, list) and len(v) == 4):
                raise _fail(path, section, i, f"'bbox' is {_kind(v)}", expected="[x, y, width, height], four numbers")
            for x in v:
                if type(x) not in _NUMBER_TYPES:
                    raise _fail(path, section, i, f"'bbox' holds {_kind(x)}", expected="[x, y, width, height], four numbers")
                if isinstance(x, int) and abs(x) > 1e308:
                    raise _fail(path, section, i, "'bbox' holds a number too large")
        raise _fail(path, section, None, "'bbox' values are not all numbers", expected="[x, y, width, height], four numbers")
    boxes = boxes.astype(float, copy=False)
    bad = ~np.isfinite(boxes)
    if bad.any():
        i = int(np.argmax(bad.any(axis=1)))
        raise _fail(path, section, i, f"'bbox' {values[i]} holds a value that is not finite", expected="finite numbers")
    negative = (boxes[:, 2] < 0) | (boxes[:, 3] < 0)
    if negative.any():
        i = int(np.argmax(negative))
        which = "width" if boxes[i, 2] < 0 else "height"
        raise _fail(path, section, i, f"'bbox' {values[i]} has a negative {which}", expected="[x, y, width, height] with width, height ≥ 0")
    return boxes


def _ids(values: list, key: str, path: str, section: str) -> np.ndarray:
    """Ids (all integers, or all strings) → an int64 or str array."""
    types = set(map(type, values))
    if types <= {int}:
        try:
            return np.fromiter(values, dtype=np.int64, count=len(values))
        except OverflowError:
            i = next(i for i, v in enumerate(values) if not -(2**63) <= v < 2**63)
            raise _fail(path, section, i, f"{key!r} {values[i]} is too large for an id") from None
    if types <= {str}:
        return np.array(values, dtype=str)
    first_type = type(values[0])
    if first_type not in (int, str):
        i = 0
    else:
        i = next(i for i, v in enumerate(values) if type(v) is not first_type)
    raise _fail(path, section, i, f"{key!r} is {_kind(values[i])}", expected="an integer id (or string ids throughout)")


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """``np.unique(values)``, without the ``numpy.ma`` import (30 ms) that ``np.unique`` triggers."""
    ordered = np.sort(values)
    if len(ordered) < 2:
        return ordered
    return ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))]


def _lookup(ids: np.ndarray, known: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of each id in the sorted ``known`` array, and whether it is there."""
    if len(known) == 0 or len(ids) == 0 or ids.dtype.kind != known.dtype.kind:
        return np.zeros(len(ids), dtype=np.int64), np.zeros(len(ids), dtype=bool)
    if known.dtype.kind == "i" and int(known[-1]) - int(known[0]) < 4 * len(ids) + 1_000_000:
        # dense integer ids: a lookup table beats a binary search
        low, span = int(known[0]), int(known[-1]) - int(known[0])
        table = np.full(span + 1, -1, dtype=np.int64)
        table[known - low] = np.arange(len(known))
        shifted = ids - low
        pos = table[np.clip(shifted, 0, span)]
        ok = (shifted >= 0) & (shifted <= span) & (pos >= 0)
        return np.maximum(pos, 0), ok
    pos = np.minimum(np.searchsorted(known, ids), len(known) - 1)
    return pos.astype(np.int64), known[pos] == ids


def _section_list(gt: dict, key: str, path: str) -> list:
    if key not in gt:
        raise InputError(f"no {key!r} list", file=path, expected='a COCO annotation object with "images", "annotations" and "categories"')
    value = gt[key]
    if not isinstance(value, list):
        raise InputError(f"{key!r} is {_kind(value)}", file=path, expected="a list")
    return value


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


# --------------------------------------------------------------------------- the files


def coco_data(
    gt: Any, results: Any, *, gt_path: str = "<ground truth>", results_path: str = "<results>", result_columns: tuple | None = None
) -> CocoData:
    """Check parsed COCO annotation and results objects and turn them into arrays.

    ``result_columns`` (image ids, category ids, boxes, scores, already checked by
    :func:`_result_columns`) stands in for ``results``, which is then ignored.
    """
    warnings: list[str] = []
    if not isinstance(gt, dict):
        raise InputError(
            f"the top level is {_kind(gt)}",
            file=gt_path,
            expected='a COCO annotation object {"images": [...], "annotations": [...], "categories": [...]}',
        )
    images = _section_list(gt, "images", gt_path)
    annotations = _section_list(gt, "annotations", gt_path)
    categories = _section_list(gt, "categories", gt_path)

    # images and categories
    _check_objects(images, gt_path, "images ")
    image_ids = _sorted_unique(_ids(_required(images, "id", gt_path, "images "), "id", gt_path, "images "))
    if len(image_ids) == 0:
        raise InputError("'images' is empty", file=gt_path, expected="at least one image")
    _check_objects(categories, gt_path, "categories ")
    raw_cat_ids = _ids(_required(categories, "id", gt_path, "categories "), "id", gt_path, "categories ")
    names_by_id: dict = {}
    for cid, entry in zip(raw_cat_ids.tolist(), categories):
        names_by_id[cid] = str(entry.get("name", cid))  # the last one wins, as in pycocotools
    category_ids = _sorted_unique(raw_cat_ids)
    category_names = tuple(names_by_id[c] for c in category_ids.tolist())

    # annotations
    section = "annotations "
    _check_objects(annotations, gt_path, section)
    n_ann = len(annotations)
    ann_image = _ids(_required(annotations, "image_id", gt_path, section), "image_id", gt_path, section)
    gt_image, ok = _lookup(ann_image, image_ids)
    if not ok.all():
        i = int(np.argmax(~ok))
        raise _fail(gt_path, section, i, f"image_id {annotations[i]['image_id']!r} is not in 'images'")
    ann_cat = _ids(_required(annotations, "category_id", gt_path, section), "category_id", gt_path, section)
    gt_category, known_cat = _lookup(ann_cat, category_ids)
    gt_bbox = _boxes(_required(annotations, "bbox", gt_path, section), gt_path, section)
    has_area = [("area" in a) for a in annotations]
    if all(has_area):
        gt_area = _numbers([a["area"] for a in annotations], "area", gt_path, section)
    else:
        missing = has_area.count(False)
        gt_area = gt_bbox[:, 2] * gt_bbox[:, 3]
        if missing < n_ann:
            given = [i for i, h in enumerate(has_area) if h]
            gt_area[given] = _numbers([annotations[i]["area"] for i in given], "area", gt_path, section)
        warnings.append(
            f"{gt_path}: {_plural(missing, 'annotation')} without 'area' (first: annotations entry {has_area.index(False)}); "
            "their area is taken as bbox width × height (pycocotools requires the field)"
        )
    crowd_values = [a.get("iscrowd", 0) for a in annotations]
    if set(map(type, crowd_values)) - {int, bool} or set(crowd_values) - {0, 1}:  # True == 1, False == 0
        i = next(i for i, v in enumerate(crowd_values) if type(v) not in (int, bool) or v not in (0, 1))
        raise _fail(gt_path, section, i, f"'iscrowd' is {_kind(crowd_values[i])}", expected="0 or 1")
    gt_iscrowd = np.array(crowd_values, dtype=bool) if n_ann else np.zeros(0, dtype=bool)
    has_id = [("id" in a) for a in annotations]
    if not any(has_id):
        gt_id = np.arange(1, n_ann + 1, dtype=np.int64)
    else:
        if not all(has_id):
            raise _fail(gt_path, section, has_id.index(False), "missing 'id' (the other annotations have one)")
        gt_id = _ids([a["id"] for a in annotations], "id", gt_path, section)
        unique, first, counts = np.unique(gt_id, return_index=True, return_counts=True)
        if (counts > 1).any():
            dup = unique[np.argmax(counts > 1)]
            where = np.flatnonzero(gt_id == dup)
            raise _fail(gt_path, section, int(where[1]), f"duplicate id {dup.item()!r} (also annotations entry {int(where[0])})", expected="unique annotation ids")
        zero = np.flatnonzero(gt_id == 0) if gt_id.dtype.kind == "i" else np.zeros(0, dtype=np.int64)
        if len(zero):
            warnings.append(
                f"{gt_path}: annotations entry {int(zero[0])} has id 0; pycocotools counts a detection matched to it as "
                "unmatched (its 'no match' marker is 0), and dlv does the same so that the numbers agree"
            )
    if not known_cat.all():
        dropped = int((~known_cat).sum())
        first_bad = int(np.argmax(~known_cat))
        warnings.append(
            f"{gt_path}: {_plural(dropped, 'annotation')} with a category_id not in 'categories' "
            f"(first: annotations entry {first_bad}, category_id {annotations[first_bad]['category_id']!r}) are left out, as COCOeval does"
        )
        keep = np.flatnonzero(known_cat)
        gt_image, gt_category, gt_bbox, gt_area, gt_iscrowd, gt_id = (
            a[keep] for a in (gt_image, gt_category, gt_bbox, gt_area, gt_iscrowd, gt_id)
        )

    # results
    path = results_path
    if result_columns is None:
        if not isinstance(results, list):
            raise InputError(
                f"the top level is {_kind(results)}",
                file=path,
                expected='a COCO results list [{"image_id": …, "category_id": …, "bbox": [x, y, w, h], "score": …}, …]',
            )
        _check_objects(results, path, "")
        det_image_ids = _ids(_required(results, "image_id", path, ""), "image_id", path, "")
    else:
        det_image_ids, det_cat_ids, det_bbox, det_score = result_columns
    det_image, ok = _lookup(det_image_ids, image_ids)
    if not ok.all():
        i = int(np.argmax(~ok))
        raise _fail(path, "", i, f"image_id {det_image_ids[i].item()!r} is not among the images of {gt_path}")
    if result_columns is None:
        det_cat_ids = _ids(_required(results, "category_id", path, ""), "category_id", path, "")
    det_category, known = _lookup(det_cat_ids, category_ids)
    if result_columns is None:
        det_bbox = _boxes(_required(results, "bbox", path, ""), path, "")
        det_score = _numbers(_required(results, "score", path, ""), "score", path, "")
    num_results = len(det_score)
    det_entry = np.arange(num_results, dtype=np.int64)
    if not known.all():
        dropped = int((~known).sum())
        first_bad = int(np.argmax(~known))
        warnings.append(
            f"{path}: {_plural(dropped, 'detection')} with a category_id not in the categories of {gt_path} "
            f"(first: entry {first_bad}, category_id {det_cat_ids[first_bad].item()!r}) are left out, as COCOeval does"
        )
        keep = np.flatnonzero(known)
        det_image, det_category, det_bbox, det_score, det_entry = (
            a[keep] for a in (det_image, det_category, det_bbox, det_score, det_entry)
        )
    if num_results == 0:
        warnings.append(f"{path}: the results list is empty; every category with ground truth has AP 0")

    return CocoData(
        image_ids=image_ids,
        category_ids=category_ids,
        category_names=category_names,
        gt_image=gt_image,
        gt_category=gt_category,
        gt_bbox=gt_bbox.reshape(-1, 4),
        gt_area=gt_area,
        gt_iscrowd=gt_iscrowd,
        gt_id=gt_id,
        det_image=det_image,
        det_category=det_category,
        det_bbox=det_bbox.reshape(-1, 4),
        det_score=det_score,
        det_entry=det_entry,
        gt_path=gt_path,
        results_path=results_path,
        warnings=tuple(warnings),
    )
