"""Result objects that display as their worked solution (in Jupyter, and with ``str``).

A command's result dataclass lists :class:`WorkedSolution` as its base.  The methods
below import the renderer only when called (``dlvcli.render.display``), so the core
stays free of rich and of the render modules: computing a result costs nothing extra.

* ``_repr_markdown_()``: what ``--format markdown`` prints for the same inputs, which
  Jupyter renders (KaTeX for the math).
* ``str(result)``: what the command prints as text into a pipe (120 columns, no colour).
* ``result.markdown(...)`` / ``result.text(...)`` with the shared output options
  (``digits``, ``exact``) and the command's view options (``summary``, ``full``,
  ``show_matrix``).
"""

from __future__ import annotations

from typing import Any


class WorkedSolution:
    """Mixin for frozen result dataclasses; adds no fields and no state."""

    __slots__ = ()

    def markdown(self, *, digits: int = 4, exact: bool = False, **view_options: Any) -> str:
        """The ``--format markdown`` document (``--digits``, ``--exact`` and the view's flags as keywords)."""
        from dlvcli.render.display import markdown_document

        return markdown_document(self, digits=digits, exact=exact, **view_options)

    def text(self, *, digits: int = 4, exact: bool = False, width: int = 120, **view_options: Any) -> str:
        """The text worked solution, as the command prints it into a pipe (``width`` columns, no colour)."""
        from dlvcli.render.display import text_document

        return text_document(self, digits=digits, exact=exact, width=width, **view_options)

    def _repr_markdown_(self) -> str:
        return self.markdown()

    def __str__(self) -> str:
        return self.text()
