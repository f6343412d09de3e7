"""The one place that prints a command's result, in the format asked for."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import Any, Protocol

from dlvcli.errors import InputError
from dlvcli.render.numbers import NumberStyle

PLOT_SUFFIXES = (".png", ".svg", ".pdf")


@dataclass(frozen=True)
class OutputSettings:
    """The shared output options every command takes (docs/conventions.md)."""

    format: str = "text"  # text | json | markdown
    digits: int = 4
    exact: bool = False
    plot: str | None = None
    input_paths: tuple[str, ...] = field(default_factory=tuple)

    @property
    def style(self) -> NumberStyle:
        return NumberStyle(digits=self.digits, exact=self.exact)


class View(Protocol):
    """What a command's render module provides (``draw`` only when it has a plot)."""

    def to_json(self, result: Any, settings: OutputSettings) -> dict: ...

    def to_rich(self, result: Any, settings: OutputSettings) -> list: ...

    def to_markdown(self, result: Any, settings: OutputSettings) -> str: ...


class NoTrailingSpaces:
    """A text stream that drops the spaces at the end of each line written through it: rich
    pads a table's cells and a wrapped paragraph's lines with them to the console's width,
    which in a file or a pipe is noise (and a diff's worth of it)."""

    def __init__(self, stream):
        self._stream, self._pending = stream, ""

    def write(self, text: str) -> int:
        *lines, self._pending = (self._pending + text).split("\n")
        if lines:
            self._stream.write("\n".join(line.rstrip(" ") for line in lines) + "\n")
        return len(text)

    def flush(self) -> None:
        if self._pending:  # a line without its end (rich ends every print with one)
            self._stream.write(self._pending)
            self._pending = ""
        self._stream.flush()

    def __getattr__(self, name):
        return getattr(self._stream, name)


def stdout_console():
    from rich.console import Console

    class QuietPipeConsole(Console):
        # rich exits with status 1 on a closed pipe; dlv treats `| head -1` as success
        # and lets its entry point (dlvcli.cli.run) end quietly with 0.
        def on_broken_pipe(self) -> None:
            self.quiet = True
            raise BrokenPipeError

    terminal = sys.stdout.isatty()
    # Off a terminal rich would wrap tables at 80 columns; worked solutions are wide.
    width = None if terminal or os.environ.get("COLUMNS") else 120
    # markup=False, emoji=False: class names, image ids and sheet ids are user text, printed
    # literally ("[/]" is not a closing tag, ":smile:" is not an emoji).
    return QuietPipeConsole(file=None if terminal else NoTrailingSpaces(sys.stdout), width=width, highlight=False,
                            soft_wrap=False, markup=False, emoji=False)


def stderr_console():
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True, markup=False, emoji=False)


def validate_plot_path(settings: OutputSettings) -> None:
    """Fail early (before computing) on a plot file name dlv cannot write."""
    if settings.plot is None:
        return
    from pathlib import Path

    from dlvcli.render.files import check_output_path

    if Path(settings.plot).suffix.lower() not in PLOT_SUFFIXES:
        raise InputError(
            f"unsupported plot file type {Path(settings.plot).suffix or '(none)'!r}",
            file=settings.plot,
            expected="a name ending in .png, .svg or .pdf",
        )
    check_output_path(settings.plot, settings.input_paths)


def _writable_folder(path: "os.PathLike[str] | str") -> bool:
    try:
        os.makedirs(path, exist_ok=True)
    except OSError:
        return False
    return os.path.isdir(path) and os.access(path, os.W_OK | os.X_OK)


def _private_temp_folder() -> str:
    """A folder in the temporary directory that only this user owns (reused, so the font cache stays)."""
    import atexit
    import shutil
    import stat
    import tempfile

    folder = os.path.join(tempfile.gettempdir(), f"dlv-matplotlib-{os.getuid() if hasattr(os, 'getuid') else 'user'}")
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        info = os.lstat(folder)
        if stat.S_ISDIR(info.st_mode) and (not hasattr(os, "getuid") or info.st_uid == os.getuid()) and os.access(folder, os.W_OK):
            return folder
    except OSError:
        pass
    folder = tempfile.mkdtemp(prefix="dlv-matplotlib-")  # someone else's folder has that name
    atexit.register(shutil.rmtree, folder, True)
    return folder


def ensure_matplotlib_folders() -> None:
    """Point MPLCONFIGDIR at a private temporary folder when matplotlib's own cannot be written.

    matplotlib would warn on stderr (twice) and build its font cache again on every run;
    a HOME that is read-only (a container, a grading account) is common.
    """
    configured = os.environ.get("MPLCONFIGDIR")
    if configured:
        if _writable_folder(configured):
            return
    else:
        from pathlib import Path

        try:
            home = Path.home()
        except (RuntimeError, KeyError):
            home = None
        if sys.platform.startswith(("linux", "freebsd")):
            config = os.environ.get("XDG_CONFIG_HOME") or (home and home / ".config")
            cache = os.environ.get("XDG_CACHE_HOME") or (home and home / ".cache")
            folders = [config and os.path.join(config, "matplotlib"), cache and os.path.join(cache, "matplotlib")]
        else:
            folders = [home and home / ".matplotlib"]
        if all(folder and _writable_folder(folder) for folder in folders):
            return
    os.environ["MPLCONFIGDIR"] = _private_temp_folder()


# matplotlib's complaints about a picture that is still right (a degenerate layout, a
# glyph drawn as a box): not worth a line on stderr after a successful run
_QUIET_PLOT_WARNINGS = (
    "constrained_layout not applied",
    "Tight layout not applied",
    "Glyph .* missing from",
    # a log axis whose curves are all 0 (losses that underflow): the limits are set explicitly
    "Data has no positive values",
)


def save_plot(settings: OutputSettings, draw, result: Any) -> str:
    """Draw with matplotlib (imported only here) and write the file atomically."""
    import warnings

    ensure_matplotlib_folders()
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    from dlvcli.render.files import write_atomic

    with warnings.catch_warnings():
        for message in _QUIET_PLOT_WARNINGS:
            warnings.filterwarnings("ignore", message=message, category=UserWarning)
        figure = Figure(figsize=(8, 5.5), layout="constrained")
        draw(result, figure)
        suffix = settings.plot.rsplit(".", 1)[-1].lower()
        write_atomic(settings.plot, lambda tmp: figure.savefig(tmp, format=suffix, dpi=120), settings.input_paths)
    return settings.plot


def emit(command: str, inputs: dict, result: Any, view: Any, settings: OutputSettings) -> None:
    """Print ``result`` as text, JSON or Markdown; write its plot; report warnings."""
    warnings = list(getattr(result, "warnings", ()))
    plot_path = save_plot(settings, view.draw, result) if settings.plot else None

    if settings.format == "json":
        from dlvcli.render.jsonout import json_document

        sys.stdout.write(json_document(command, inputs, view.to_json(result, settings), warnings) + "\n")
        if plot_path:
            stderr_console().print(f"plot written to {plot_path}")
        sys.stdout.flush()
        return

    from rich.text import Text

    err = stderr_console()
    for message in warnings:
        err.print(Text.assemble(("warning:", "yellow"), f" {message}"))
    if settings.format == "markdown":
        sys.stdout.write(view.to_markdown(result, settings).rstrip() + "\n")
        if plot_path:
            err.print(f"plot written to {plot_path}")
    else:
        from dlvcli.render.derivation import as_prose

        console = stdout_console()
        for renderable in view.to_rich(result, settings):
            console.print(as_prose(renderable))  # a line of prose never breaks inside a formula
        if plot_path:
            console.print(f"Plot written to {plot_path}")
    sys.stdout.flush()
