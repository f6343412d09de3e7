"""click's exception classes, wherever this typer keeps click (vendored from typer 0.26 on)."""

import typer

try:
    from typer._click import exceptions
except ImportError:  # typer ≤ 0.25 depends on click itself
    from click import exceptions

ClickException = exceptions.ClickException
UsageError = exceptions.UsageError
Abort = typer.Abort
# click ≥ 8.2 raises this for a bare `dlv`; older versions print the help themselves
NoArgsIsHelpError = getattr(exceptions, "NoArgsIsHelpError", type("NoArgsIsHelpError", (UsageError,), {}))
