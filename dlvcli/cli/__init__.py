"""The ``dlv`` command line: a thin layer that parses (dlv's own parser, or typer), calls the core, and renders.

Each command lives in its own module here with a ``commands()`` function giving its
:class:`~dlvcli.cli.params.Command` declarations; a command appears in ``dlv --help``
once it is listed in ``COMMANDS``.  Nothing here imports typer, numpy or matplotlib at
module level: ``dlv --help`` (and a bare ``dlv``) print the listing below without loading
typer at all, and a plain command line (``dlv focal --p 0.9 --json``) is read by
``Command.parse`` without it too; typer reads the rest (``--help``, mistakes, completion,
sheets).  Start-up: benchmarks/bench_startup.py.
"""

from __future__ import annotations

import gc
import importlib
import os
import sys
import warnings

import dlvcli

ABOUT = "Worked solutions for deep-learning exercises: formula, numbers substituted, answer."
# (command, module in dlvcli.cli, summary: the first line of the command's own help;
# tests/test_cli_help.py checks that the two agree)
COMMANDS = (
    ("interp-ap", "interp_ap", "Interpolated average precision (11-point, all-point or 101-point), step by step."),
    ("bptt", "bptt", "Backpropagation through time for an RNN (tanh or ReLU, LSTM, GRU), worked term by term."),
    ("focal", "focal", "Focal loss FL(p_t) = −α_t (1 − p_t)^γ ln p_t against cross-entropy CE = −ln p_t."),
    ("box-compare", "box_compare", "Compare boxes: IoU, GIoU, DIoU, CIoU against L1/L2 distances, step by step."),
    ("tconv", "tconv", "Transposed convolution (PyTorch ConvTranspose2d), step by step."),
    ("solve", "sheets", "Solve every problem of a sheet in one process and check the expected answers."),
    ("generate", "sheets", "Print a sheet of random, well-posed problems with their answers under 'expect'."),
    ("grade", "grade", "Grade a class's answers against a sheet: scores, and the mistake behind each wrong answer."),
)
COMMAND_MODULES = tuple(dict.fromkeys(module for _, module, _ in COMMANDS))


def _help_width() -> int:
    """As click's help: the terminal's width (COLUMNS first), at most 80."""
    columns = os.environ.get("COLUMNS", "")
    if not columns.isdigit():
        try:
            columns = os.get_terminal_size(sys.stdout.fileno()).columns
        except (OSError, ValueError):  # not a terminal, or stdout replaced by a buffer
            columns = 80
    return max(40, min(int(columns), 80))


def _wrapped(text: str, width: int, first: str, rest: str) -> list[str]:
    """``text`` in words on lines of at most ``width`` (a longer word alone on its line), the
    first line after ``first``, the others after ``rest`` (textwrap would import re)."""
    lines, line, empty = [], first, True
    for word in text.split():
        if not empty and len(line) + 1 + len(word) > width:
            lines.append(line)
            line, empty = rest, True
        line += word if empty else " " + word
        empty = False
    lines.append(line)
    return lines


def top_level_help() -> str:
    """``dlv --help``, written out here so that printing it needs no typer."""
    width = _help_width()
    column = max(len(name) for name, _, _ in COMMANDS) + 4
    lines = ["Usage: dlv [OPTIONS] COMMAND [ARGS]...", ""]
    lines += _wrapped(ABOUT, width, "  ", "  ")
    lines += [""]
    lines += _wrapped("Every command prints the worked solution as text, or one JSON document with --json, or Markdown "
                      "with --format markdown. 'dlv COMMAND --help' lists its options.", width, "  ", "  ")
    lines += [
        "",
        "Options:",
        "  --version                     Print the version.",
        "  --install-completion [SHELL]  Install completion for bash, zsh or fish.",
        "  --show-completion [SHELL]     Print the completion script.",
        "  -h, --help                    Show this message and exit.",
        "",
        "Commands:",
    ]
    for name, _, summary in COMMANDS:
        lines += _wrapped(summary, width, f"  {name:<{column - 2}}", " " * column)
    return "\n".join(lines) + "\n"


def _version_callback(value: bool) -> None:
    if value:
        import typer

        print(f"dlv {dlvcli.__version__}")
        raise typer.Exit()


def build_app(only: str | None = None):
    """The Typer app with every command, or with only the command named ``only``.

    Typer turns each command's signature into click parameters when the app is called
    (annotations evaluated, ≈ 10 ms a command); a run needs only the command it runs.
    """
    import typer

    app = typer.Typer(
        name="dlv",
        help=ABOUT,
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,  # plain help: typer.rich_utils pulls in markdown-it (≈45 ms of start-up)
        context_settings={"help_option_names": ["-h", "--help"]},
    )

    @app.callback()
    def root(
        version: bool = typer.Option(False, "--version", callback=_version_callback, is_eager=True, help="Print the version."),
    ) -> None:
        """Worked solutions for deep-learning exercises: formula, numbers substituted, answer.

        Every command prints a derivation (text), or --json for scripts, or --format markdown.
        """

    # solve, generate and grade run the other commands in-process, through this app: they need them all
    modules = [module for name, module, _ in COMMANDS if name == only and module not in ("sheets", "grade")] or COMMAND_MODULES
    for name in modules:
        for command in importlib.import_module(f"dlvcli.cli.{name}").commands():
            command.add_to(app)
    return app


# solve, generate and grade run commands through the typer app (they need its context)
QUICK_MODULES = {name: module for name, module, _ in COMMANDS if module not in ("sheets", "grade")}


def _run_quick(args: list[str]) -> tuple[bool, object]:
    """Run ``dlv COMMAND …`` without typer when dlv's own parser reads the command line:
    (True, the command's result), else (False, None) and typer is to read it."""
    module = QUICK_MODULES.get(args[0]) if args else None
    if module is None:
        return False, None
    for command in importlib.import_module(f"dlvcli.cli.{module}").commands():
        if command.name == args[0]:
            return command.run_quick(args[1:])
    return False, None


class _NotRaised(Exception):
    """Stands for click's exceptions while typer is not loaded: none of them can occur."""


def _click(name: str) -> type[BaseException]:
    """click's exception class ``name``, once typer is loaded (this is evaluated only when an
    exception is being handled, so a run that never loads typer never pays for it)."""
    compat = sys.modules.get("dlvcli.cli.click_compat")
    return getattr(compat, name) if compat is not None else _NotRaised


def _error(message: str, hint: str | None = None) -> None:
    try:
        sys.stderr.write(f"error: {message}\n")
        if hint:
            sys.stderr.write(hint + "\n")
        sys.stderr.flush()
    except (AttributeError, OSError, ValueError):  # stderr closed too: the exit code says it
        pass


def _silence_stdout() -> None:
    """After a closed pipe: point stdout at /dev/null so the final flush cannot complain."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (AttributeError, OSError, ValueError):
        pass


def _with_case_hint(exc) -> str:
    """An unknown option that differs from a real one only in case (``--u`` for ``--U``):
    say which, since parameters keep their case (click's own guess misses these)."""
    message = exc.format_message()
    name = getattr(exc, "option_name", None)
    if not name or exc.ctx is None:
        return message
    options = [opt for param in exc.ctx.command.params for opt in getattr(param, "opts", [])]
    same = [opt for opt in options if opt.lower() == name.lower() and opt != name]
    if same:
        return f"No such option: {name}. Did you mean {same[0]}? (options keep their case)"
    return message

def _stdout_failure(exc: OSError) -> bool:
    """Is this the error of a write to standard output (closed, full, a dead terminal)?

    Files that dlv reads or writes raise InputError naming them; a bare OSError without a
    file name, of one of these kinds, comes from stdout.
    """
    import errno

    return exc.filename is None and exc.errno in (errno.ENOSPC, errno.EBADF, errno.EIO, errno.EFBIG, errno.EDQUOT)


def _cannot_write(exc: OSError | None = None) -> int:
    _error(f"cannot write to standard output: {exc.strerror if exc is not None and exc.strerror else 'it is closed'}")
    _silence_stdout()  # what is still buffered goes nowhere, quietly, at exit
    return 2


def run(argv: list[str] | None = None) -> int:
    """Run dlv with ``argv`` (default ``sys.argv[1:]``) and return the exit code (docs/conventions.md).

    Ctrl-C at any point in here is exit 130 without a traceback; a standard output that
    is closed (``>&-``) or full (``>/dev/full``) is ``error: cannot write …`` and exit 2.
    """
    try:
        if sys.stdout is None:  # started with stdout closed: Python leaves sys.stdout None
            return _cannot_write()
        code = _run(argv)
        if code == 130:  # typer turns Ctrl-C inside a command into exit 130, silently
            _error("interrupted")
        return code
    except KeyboardInterrupt:
        _error("interrupted")
        return 130
    except OSError as exc:
        if _stdout_failure(exc):
            return _cannot_write(exc)
        raise


def _run(argv: list[str] | None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    from dlvcli.cli.completion import handle, wants_completion  # small: imports nothing else

    if wants_completion(args):
        return handle(args)
    # numpy's floating-point RuntimeWarnings would print raw to stderr; commands detect
    # non-finite results themselves and report them as dlv warnings.
    warnings.simplefilter("ignore", RuntimeWarning)
    if args in ([], ["--help"], ["-h"]):
        sys.stdout.write(top_level_help())
        return 0
    if args == ["--version"]:
        sys.stdout.write(f"dlv {dlvcli.__version__}\n")
        return 0
    debug = "--debug" in args or os.environ.get("DLV_DEBUG", "") not in ("", "0")
    try:
        done, result = _run_quick(args)
        if not done:
            from dlvcli.cli import click_compat  # noqa: F401  (for _click)

            app = build_app(only=args[0])  # dlv COMMAND ...: that command alone
            result = app(args=args, standalone_mode=False, prog_name="dlv")
        sys.stdout.flush()
        return result if isinstance(result, int) else 0
    except BrokenPipeError:
        _silence_stdout()
        return 0
    except _click("NoArgsIsHelpError") as exc:
        print(exc.ctx.get_help() if exc.ctx else "")
        return 0
    except _click("UsageError") as exc:
        command = exc.ctx.command_path if exc.ctx else "dlv"
        _error(_with_case_hint(exc), f"Try '{command} --help' for help.")
        return 2
    except _click("ClickException") as exc:
        _error(exc.format_message())
        return 2
    except _click("Abort"):  # click's word for Ctrl-C / end of input at a prompt
        raise KeyboardInterrupt from None
    except ValueError as exc:  # InputError, and the core's checks of its arguments
        if debug:
            import traceback

            traceback.print_exc()
        _error(str(exc))
        return 2
    except OSError as exc:
        if _stdout_failure(exc):
            return _cannot_write(exc)
        return _internal(exc, debug)
    except Exception as exc:  # an internal fault: say so, traceback only when asked
        return _internal(exc, debug)


def _internal(exc: BaseException, debug: bool) -> int:
    if debug:
        import traceback

        traceback.print_exc()
    _error(
        f"internal error: {type(exc).__name__}: {exc}",
        None if debug else "This is a bug in dlv. Run again with --debug (or DLV_DEBUG=1) for the traceback.",
    )
    return 1


def main() -> None:
    # Start-up alone makes 25,000-30,000 objects that live until exit (numpy's, rich's):
    # the collector's default (every 700 allocations) would scan them over and over
    # (≈ 5-9 ms of a 0.2 s run); commands raise it again in prepare() for in-process runs.
    from dlvcli.cli.bulk import fewer_collections

    fewer_collections()
    try:
        code = run()
        if sys.stdout is not None:
            sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()
        code = 0
    except KeyboardInterrupt:
        _error("interrupted")
        code = 130
    except OSError as exc:
        code = _cannot_write(exc) if _stdout_failure(exc) else _internal(exc, False)
    # The process ends here: skip the full collection Python runs over every object
    # (numpy's included) at exit, ≈ 8 ms of a 0.2 s run; the OS frees the memory anyway.
    gc.disable()
    sys.exit(code)
