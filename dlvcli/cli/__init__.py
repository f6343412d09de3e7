"""The ``dlv`` command line: a thin Typer layer that parses, calls the core, and renders.

Each command lives in its own module here with a ``register(app)`` function; a
command appears in ``dlv --help`` once its module exists.  Nothing here imports
numpy or matplotlib at module level, so ``dlv --help`` starts fast.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import warnings

import typer

import dlvcli

# command modules in the order `dlv --help` lists them
COMMAND_MODULES = ("interp_ap", "bptt", "focal", "box_compare", "tconv", "sheets")


def _version_callback(value: bool) -> None:
    if value:
        print(f"dlv {dlvcli.__version__}")
        raise typer.Exit()


def build_app() -> typer.Typer:
    app = typer.Typer(
        name="dlv",
        help="Worked solutions for deep-learning exercises: formula, numbers substituted, answer.",
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

    for name in COMMAND_MODULES:
        if importlib.util.find_spec(f"dlvcli.cli.{name}") is not None:
            importlib.import_module(f"dlvcli.cli.{name}").register(app)
    return app


def _error(message: str, hint: str | None = None) -> None:
    sys.stderr.write(f"error: {message}\n")
    if hint:
        sys.stderr.write(hint + "\n")


def _silence_stdout() -> None:
    """After a closed pipe: point stdout at /dev/null so the final flush cannot complain."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def run(argv: list[str] | None = None) -> int:
    """Run dlv with ``argv`` (default ``sys.argv[1:]``) and return the exit code (CONTRACT §1)."""
    from typer._click import exceptions as click_exceptions  # typer vendors click

    args = list(sys.argv[1:] if argv is None else argv)
    # numpy's floating-point RuntimeWarnings would print raw to stderr; commands detect
    # non-finite results themselves and report them as dlv warnings.
    warnings.simplefilter("ignore", RuntimeWarning)
    debug = "--debug" in args or os.environ.get("DLV_DEBUG", "") not in ("", "0")
    try:
        app = build_app()
        result = app(args=args, standalone_mode=False, prog_name="dlv")
        sys.stdout.flush()
        return result if isinstance(result, int) else 0
    except BrokenPipeError:
        _silence_stdout()
        return 0
    except click_exceptions.NoArgsIsHelpError as exc:
        print(exc.ctx.get_help() if exc.ctx else "")
        return 0
    except click_exceptions.UsageError as exc:
        command = exc.ctx.command_path if exc.ctx else "dlv"
        _error(exc.format_message(), f"Try '{command} --help' for help.")
        return 2
    except click_exceptions.ClickException as exc:
        _error(exc.format_message())
        return 2
    except typer.Abort:
        _error("aborted")
        return 130
    except ValueError as exc:  # InputError, and the core's checks of its arguments
        if debug:
            import traceback

            traceback.print_exc()
        _error(str(exc))
        return 2
    except KeyboardInterrupt:
        _error("interrupted")
        return 130
    except Exception as exc:  # an internal fault: say so, traceback only when asked
        if debug:
            import traceback

            traceback.print_exc()
        _error(
            f"internal error: {type(exc).__name__}: {exc}",
            None if debug else "This is a bug in dlv. Run again with --debug (or DLV_DEBUG=1) for the traceback.",
        )
        return 1


def main() -> None:
    code = run()
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()
        code = 0
    sys.exit(code)
