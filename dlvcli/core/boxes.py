"""Boxes: format conversion and the one intersection/union helper every overlap measure uses.

Boxes are float arrays of shape (..., 4).  Formats: ``xyxy`` (x1, y1, x2, y2),
``xywh`` (x, y, w, h; top-left corner), ``cxcywh`` (cx, cy, w, h).  Coordinates are
continuous; ``plus_one`` switches to the PASCAL VOC devkit's integer-pixel convention,
where a box covers x2 − x1 + 1 pixels.
"""

from __future__ import annotations

import numpy as np

BOX_FORMATS = ("xyxy", "xywh", "cxcywh")
BOX_COLUMNS = {
    "xyxy": ("x1", "y1", "x2", "y2"),
    "xywh": ("x", "y", "w", "h"),
    "cxcywh": ("cx", "cy", "w", "h"),
}


def to_xyxy(boxes, box_format: str = "xyxy") -> np.ndarray:
    """Convert boxes of shape (..., 4) from ``box_format`` to corner form (x1, y1, x2, y2)."""
    b = np.asarray(boxes, dtype=float)
    if box_format == "xyxy":
        return b.copy()
    if box_format == "xywh":
        return np.concatenate([b[..., :2], b[..., :2] + b[..., 2:]], axis=-1)
    if box_format == "cxcywh":
        half = b[..., 2:] / 2
        return np.concatenate([b[..., :2] - half, b[..., :2] + half], axis=-1)
    raise ValueError(f"unknown box format {box_format!r}, expected one of {', '.join(BOX_FORMATS)}")


def box_area(boxes, plus_one: bool = False) -> np.ndarray:
    """Area of xyxy boxes, shape (...,)."""
    b = np.asarray(boxes, dtype=float)
    extra = 1.0 if plus_one else 0.0
    return (b[..., 2] - b[..., 0] + extra) * (b[..., 3] - b[..., 1] + extra)


def intersection_union(a, b, plus_one: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Intersection and union areas of xyxy boxes ``a`` and ``b`` (broadcast against each other).

    For all pairs between N boxes and M boxes, pass ``a[:, None]`` and ``b[None, :]``.
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    extra = 1.0 if plus_one else 0.0
    width = np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]) + extra
    height = np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]) + extra
    inter = np.clip(width, 0, None) * np.clip(height, 0, None)
    union = box_area(a, plus_one) + box_area(b, plus_one) - inter
    return inter, union


def iou(a, b, plus_one: bool = False) -> np.ndarray:
    """IoU = |A ∩ B| / |A ∪ B| of xyxy boxes (broadcast); 0 where the union is empty."""
    inter, union = intersection_union(a, b, plus_one)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def pairwise_iou(a, b, plus_one: bool = False) -> np.ndarray:
    """IoU of every box in ``a`` (N, 4) with every box in ``b`` (M, 4): shape (N, M)."""
    a = np.asarray(a, dtype=float).reshape(-1, 4)
    b = np.asarray(b, dtype=float).reshape(-1, 4)
    return iou(a[:, None, :], b[None, :, :], plus_one)


def from_xyxy(boxes, box_format: str = "xyxy") -> np.ndarray:
    """Convert corner-form boxes (..., 4) to ``box_format``: the inverse of :func:`to_xyxy`."""
    b = np.asarray(boxes, dtype=float)
    if box_format == "xyxy":
        return b.copy()
    if box_format == "xywh":
        return np.concatenate([b[..., :2], b[..., 2:] - b[..., :2]], axis=-1)
    if box_format == "cxcywh":
        return np.concatenate([(b[..., :2] + b[..., 2:]) / 2, b[..., 2:] - b[..., :2]], axis=-1)
    raise ValueError(f"unknown box format {box_format!r}, expected one of {', '.join(BOX_FORMATS)}")


def enclosing_box(a, b) -> np.ndarray:
    """The smallest axis-aligned box containing both xyxy boxes ``a`` and ``b`` (broadcast), shape (..., 4).

    C = (min(x1ᵃ, x1ᵇ), min(y1ᵃ, y1ᵇ), max(x2ᵃ, x2ᵇ), max(y2ᵃ, y2ᵇ)), as used by GIoU
    (Rezatofighi et al. 2019) and DIoU/CIoU (Zheng et al. 2020).
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    return np.concatenate([np.minimum(a[..., :2], b[..., :2]), np.maximum(a[..., 2:], b[..., 2:])], axis=-1)
