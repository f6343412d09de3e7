"""dlv: worked solutions for deep-learning exercises.

Every command's computation is callable without the CLI.  The functions are
loaded lazily so that ``import dlvcli`` (and ``dlv --help``) stay cheap::

    >>> import dlvcli
    >>> result = dlvcli.interp_ap_ranked([1, 1, 0, 0, 0, 1, 1, 0, 0, 1], num_gt=5)
    >>> str(result.classes[0].ap_exact)
    '58/77'

One call per command: ``interp_ap``, ``bptt``, ``focal``, ``box_compare``, ``tconv``
(``tconv_shape``, ``tconv_solve`` for sizes).  Every result displays as its worked
solution: in Jupyter as the ``--format markdown`` document, with ``str()`` as the text
one (docs/notebook.md)::

    >>> print(dlvcli.focal(p=0.9, gamma=2))  # doctest: +SKIP
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# public name -> module that defines it; resolved on first attribute access
_LAZY_EXPORTS = {
    "interp_ap": "dlvcli.library",
    "interp_ap_ranked": "dlvcli.core.ap",
    "interp_ap_boxes": "dlvcli.core.ap",
    "average_precision": "dlvcli.core.ap",
    "match_detections_voc": "dlvcli.core.matching",
    "bptt": "dlvcli.core.bptt",
    "bptt_gradients": "dlvcli.core.bptt",
    "focal": "dlvcli.core.focal",
    "box_compare": "dlvcli.core.box_compare",
    "same_distance_boxes": "dlvcli.core.box_compare",
    "tconv": "dlvcli.core.tconv",
    "tconv_shape": "dlvcli.core.tconv",
    "tconv_output_size": "dlvcli.core.tconv",
    "tconv_solve": "dlvcli.core.tconv",
    "transposed_conv": "dlvcli.core.tconv",
    "conv_matrix": "dlvcli.core.tconv",
}


def __getattr__(name: str):
    module_name = _LAZY_EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'dlvcli' has no attribute {name!r}")
    return getattr(importlib.import_module(module_name), name)


def __dir__():
    return sorted([*globals(), *_LAZY_EXPORTS])
