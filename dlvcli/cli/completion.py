"""Shell completion for bash, zsh and fish (docs/shell-completion.md).

``dlv --show-completion [SHELL]`` prints the script, ``dlv --install-completion [SHELL]``
writes it where the shell loads it (typer's installers: ~/.bash_completions/dlv.sh sourced
from ~/.bashrc, ~/.zfunc/_dlv, ~/.config/fish/completions/dlv.fish).  The script calls dlv
back with ``_DLV_COMPLETE`` set, as Click does; only then is this module imported, so
``dlv --help`` and the commands do not pay for it.  Both instruction orders are understood:
typer's scripts send ``complete_bash``, Click's convention is ``bash_complete``.
"""

from __future__ import annotations

import os
import sys

PROG = "dlv"
COMPLETE_VAR = "_DLV_COMPLETE"
SHELLS = ("bash", "zsh", "fish")
OPTIONS = ("--show-completion", "--install-completion")


def wants_completion(args: list[str]) -> bool:
    """A completion request from the shell (the variable) or ``dlv --show/--install-completion``."""
    return bool(os.environ.get(COMPLETE_VAR)) or (bool(args) and args[0].split("=", 1)[0] in OPTIONS)


def handle(args: list[str]) -> int:
    instruction = os.environ.get(COMPLETE_VAR)
    if instruction:
        return complete(instruction)
    option, _, shell = args[0].partition("=")
    rest = args[1:]
    if not shell and rest:
        shell, rest = rest[0], rest[1:]
    if rest:
        return _error(f"{option} takes one SHELL ({', '.join(SHELLS)}), got also {' '.join(rest)!r}")
    shell = shell or _detect_shell()
    if shell is None:
        return _error(f"could not tell which shell this is; give it: dlv {option} bash (or zsh, fish)")
    if shell not in SHELLS:
        return _error(f"{option} {shell}: unsupported shell, expected one of {', '.join(SHELLS)}")
    from typer import _completion_shared as shared

    if option == "--show-completion":
        sys.stdout.write(shared.get_completion_script(prog_name=PROG, complete_var=COMPLETE_VAR, shell=shell) + "\n")
        return 0
    installer = {"bash": shared.install_bash, "zsh": shared.install_zsh, "fish": shared.install_fish}[shell]
    path = installer(prog_name=PROG, complete_var=COMPLETE_VAR, shell=shell)
    sys.stdout.write(f"{shell} completion installed in {path}\nIt takes effect in a new shell.\n")
    return 0


def complete(instruction: str) -> int:
    """Answer the shell: ``bash_complete`` (or ``complete_bash``) prints the candidates, ``*_source`` the script."""
    first, _, second = instruction.partition("_")
    shell, action = (first, second) if first in SHELLS else (second, first)
    if shell not in SHELLS or action not in ("complete", "source"):
        return _error(f"{COMPLETE_VAR}={instruction}: expected SHELL_complete or SHELL_source, SHELL one of {', '.join(SHELLS)}")
    import typer
    from typer._completion_classes import completion_init

    try:
        from typer._click import shell_completion
    except ImportError:  # typer ≤ 0.25 depends on click itself
        from click import shell_completion

    from dlvcli.cli import build_app

    completion_init()  # typer's bash/zsh/fish classes, matching its scripts
    command = typer.main.get_command(build_app())
    completer = shell_completion.get_completion_class(shell)(command, {}, PROG, COMPLETE_VAR)
    sys.stdout.write((completer.source() if action == "source" else completer.complete()) + "\n")
    return 0


def _detect_shell() -> str | None:
    try:
        import shellingham

        return shellingham.detect_shell()[0]
    except Exception:  # not installed, or no shell found among the parents
        shell = os.path.basename(os.environ.get("SHELL", ""))
        return shell or None


def _error(message: str) -> int:
    sys.stderr.write(f"error: {message}\n")
    return 2
