"""How a result object renders itself (``dlvcli.core.display.WorkedSolution``).

One registry maps each result type to its command and the view the command would use,
so that ``result._repr_markdown_()`` is byte for byte the command's ``--format markdown``
output and ``str(result)`` its text output into a pipe (tests/test_display.py checks both
against the CLI).
"""

from __future__ import annotations

import importlib
import io
from typing import Any

from dlvcli.render.output import NoTrailingSpaces, OutputSettings

# result class (module, name) → (command, render module, view class or None for a module view)
VIEWS: dict[tuple[str, str], tuple[str, str, str | None]] = {
    ("dlvcli.core.ap", "APResult"): ("interp-ap", "dlvcli.render.ap", "ApView"),
    ("dlvcli.core.coco", "CocoResult"): ("interp-ap", "dlvcli.render.coco", "CocoView"),
    ("dlvcli.core.bptt", "BpttResult"): ("bptt", "dlvcli.render.bptt", "BpttView"),
    ("dlvcli.core.focal", "FocalResult"): ("focal", "dlvcli.render.focal", None),
    ("dlvcli.core.focal_softmax", "SoftmaxFocalResult"): ("focal", "dlvcli.render.focal_softmax", None),
    ("dlvcli.core.rnn_cells", "CellBpttResult"): ("bptt", "dlvcli.render.rnn_cells", "CellView"),
    ("dlvcli.core.rnn_cells", "CompareCellsResult"): ("bptt", "dlvcli.render.rnn_cells", "CompareView"),
    ("dlvcli.core.box_compare", "BoxCompareResult"): ("box-compare", "dlvcli.render.box_compare", None),
    ("dlvcli.core.tconv", "TconvResult"): ("tconv", "dlvcli.render.tconv", "TconvView"),
    ("dlvcli.core.tconv", "TconvShape"): ("tconv", "dlvcli.render.tconv", "TconvView"),
    ("dlvcli.core.tconv", "SolveResult"): ("tconv", "dlvcli.render.tconv", "TconvView"),
}


def command_of(result: Any) -> str:
    """The dlv command whose output ``result`` is (``interp-ap``, ``focal``, …)."""
    return _entry(result)[0]


def view_for(result: Any, **view_options: Any) -> Any:
    """The view the command renders ``result`` with; ``view_options`` are its flags (``summary=True``)."""
    _, module_name, class_name = _entry(result)
    module = importlib.import_module(module_name)
    if class_name is None:
        if view_options:
            raise TypeError(f"{type(result).__name__} has no view options (got {', '.join(view_options)})")
        return module
    return getattr(module, class_name)(**view_options)


def markdown_document(result: Any, *, digits: int = 4, exact: bool = False, **view_options: Any) -> str:
    """Exactly what ``dlv COMMAND --format markdown`` writes to stdout (see render.output.emit)."""
    settings = OutputSettings(format="markdown", digits=digits, exact=exact)
    return view_for(result, **view_options).to_markdown(result, settings).rstrip() + "\n"


def text_document(result: Any, *, digits: int = 4, exact: bool = False, width: int = 120, **view_options: Any) -> str:
    """What ``dlv COMMAND`` prints as text into a pipe: rich at ``width`` columns, no colour, no markup."""
    from rich.console import Console

    settings = OutputSettings(format="text", digits=digits, exact=exact)
    buffer = io.StringIO()
    stream = NoTrailingSpaces(buffer)  # as stdout_console writes into a pipe
    # the settings of render.output.stdout_console, writing to a buffer with no terminal; in a
    # notebook rich would otherwise send each print to Jupyter as HTML instead of the buffer
    console = Console(
        file=stream,
        width=width,
        highlight=False,
        soft_wrap=False,
        markup=False,
        emoji=False,
        color_system=None,
        force_terminal=False,
        force_jupyter=False,
    )
    from dlvcli.render.derivation import as_prose

    for renderable in view_for(result, **view_options).to_rich(result, settings):
        console.print(as_prose(renderable))
    stream.flush()
    return buffer.getvalue()


def _entry(result: Any) -> tuple[str, str, str | None]:
    for cls in type(result).__mro__:
        entry = VIEWS.get((cls.__module__, cls.__qualname__))
        if entry is not None:
            return entry
    raise TypeError(f"{type(result).__name__} is not a dlv result (no view registered for it)")
