"""Each command's parameters, declared once without typer, for typer and for a quick parser.

A command function annotates its parameters with :class:`Option` and :class:`Argument`
(typer's arguments, kept as they are) and its context with :class:`Context`;
:class:`Command` puts the function and the shared options (``--json``, ``--digits``, …) together.
Two readers use the one declaration:

* :meth:`Command.add_to` gives typer the same signature with typer's own objects: the
  help, the usage errors, completion, and ``dlv solve``/``generate``/``grade``, which run
  commands through the typer app.
* :meth:`Command.parse` reads a plain, valid command line (long options, ``--name=value``,
  ``-c FILE``, repeated options, positional arguments) into what click would have made of it,
  without importing typer (≈ 30 ms of a 0.2 s run; benchmarks/bench_startup.py).  Anything
  else (``--help``, an unknown or misspelt option, a value click would refuse, ``--``,
  bundled short flags) gives ``None``, and the run goes through typer, whose message the
  user then sees.  tests/test_cli_params.py checks that the two readers agree.
"""

from __future__ import annotations

import enum
import functools
import typing
from typing import Annotated, Any

COMMAND_LINE = "COMMANDLINE"
DEFAULT = "DEFAULT"


class Option:
    """typer.Option's arguments (names first), kept until typer is needed."""

    kind = "option"
    __slots__ = ("decls", "settings")

    def __init__(self, *decls: str, **settings: Any) -> None:
        self.decls = decls
        self.settings = settings

    def to_typer(self):
        import typer

        return typer.Option(*self.decls, **self.settings)


class Argument(Option):
    """typer.Argument's arguments."""

    kind = "argument"
    __slots__ = ()

    def to_typer(self):
        import typer

        return typer.Argument(*self.decls, **self.settings)


class Context:
    """The annotation of a command's first parameter: click's context under typer, else a
    :class:`QuickContext`; both have ``params``, ``get_parameter_source`` and ``command``."""


class ParameterSource:
    """click's ParameterSource as far as dlv reads it: its ``name``."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


SOURCES = {COMMAND_LINE: ParameterSource(COMMAND_LINE), DEFAULT: ParameterSource(DEFAULT)}
_EMPTY = object()  # the default of a parameter that has none (required)


class Parameter:
    """One option or argument: what a parser needs, in the attributes click's parameters
    have (``name``, ``opts``, ``min``, ``max``) so that the ``--config`` merge reads either."""

    __slots__ = ("name", "kind", "opts", "hint", "item", "multiple", "flag", "choices", "min", "max", "default", "required")

    def __init__(self, name: str, annotation: Any, default: Any) -> None:
        base, declared = typing.get_args(annotation)[:2]
        self.name = name
        self.kind = declared.kind
        self.opts = declared.decls
        hint = _without_none(base)
        self.hint = hint  # the plain type, for values read from --config
        self.multiple = typing.get_origin(hint) is list
        self.item = typing.get_args(hint)[0] if self.multiple else hint
        self.flag = self.item is bool
        self.choices = {m.value: m for m in self.item} if isinstance(self.item, type) and issubclass(self.item, enum.Enum) else None
        self.min = declared.settings.get("min")
        self.max = declared.settings.get("max")
        self.default = default
        self.required = default is _EMPTY

    def convert(self, text: str) -> tuple[bool, Any]:
        """(True, what click stores in ctx.params), or (False, None) where click might refuse it."""
        item = self.item
        if item is str:
            return True, text
        if self.choices is not None:
            return (True, text) if text in self.choices else (False, None)
        if item is int or item is float:
            try:
                value = item(text)
            except ValueError:
                return False, None
            if (self.min is not None and value < self.min) or (self.max is not None and value > self.max):
                return False, None
            return True, value
        return False, None

    def click_default(self) -> Any:
        """The default as click stores it in ctx.params (enums by value, multiples as tuples)."""
        if self.multiple:
            return tuple(self.default) if self.default is not None else ()
        if isinstance(self.default, enum.Enum):
            return self.default.value
        return self.default

    def keyword(self, value: Any) -> Any:
        """ctx.params' value → the keyword argument typer passes to the function."""
        if self.multiple:
            return [self.choices[v] if self.choices else v for v in value] if value else None
        if self.choices is not None and value is not None:
            return self.choices[value]
        return value


def _without_none(hint: Any) -> Any:
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if typing.get_origin(hint) is typing.Union and len(args) == 1:
        return args[0]
    return hint



class QuickCommand:
    """What the ``--config`` merge reads of ``ctx.command``: the parameters and the function."""

    __slots__ = ("params", "callback", "dlv_command")

    def __init__(self, command: Command) -> None:
        self.params = command.parameters
        self.callback = command.function
        self.dlv_command = command


class QuickContext:
    """A parsed command line, read as dlv reads click's context."""

    __slots__ = ("params", "command", "sources")

    def __init__(self, command: QuickCommand, params: dict[str, Any], sources: dict[str, str]) -> None:
        self.command = command
        self.params = params
        self.sources = sources

    def get_parameter_source(self, name: str) -> ParameterSource | None:
        source = self.sources.get(name)
        return SOURCES[source] if source else None


class Command:
    """A dlv command: its name, help, function and the shared options it takes."""

    def __init__(self, name: str, function: Any, *, help: str, shared: tuple[tuple[str, Any, Any], ...], no_args_is_help: bool = False) -> None:
        self.name = name
        self.function = function
        self.help = help
        self.shared = shared
        self.no_args_is_help = no_args_is_help

    @functools.cached_property
    def declarations(self) -> list[tuple[str, Any, Any]]:
        """(name, Annotated[type, Option/Argument], default) of every parameter but the context:
        the function's own, then the shared ones."""
        import inspect

        hints = typing.get_type_hints(self.function, include_extras=True)
        own = [
            (p.name, hints[p.name], _EMPTY if p.default is p.empty else p.default)
            for p in inspect.signature(self.function).parameters.values()
            if p.kind is not p.VAR_KEYWORD and hints.get(p.name) is not Context
        ]
        return own + list(self.shared)

    @functools.cached_property
    def parameters(self) -> tuple[Parameter, ...]:
        return tuple(Parameter(name, annotation, default) for name, annotation, default in self.declarations)

    def hints(self) -> dict[str, Any]:
        """Parameter name → plain type (Optional and Annotated taken off), for --config values."""
        return {p.name: p.hint for p in self.parameters}

    # ------------------------------------------------------------------ typer

    def add_to(self, app: Any, function: Any = None) -> None:
        """Register the command in a typer app (``function`` replaces the command's own, for tests)."""
        import inspect

        import typer

        target = function or self.function

        def call(ctx: Any, **values: Any) -> Any:
            return target(ctx, **values)

        parameters = [inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context)]
        annotations: dict[str, Any] = {"ctx": typer.Context}
        for name, annotation, default in self.declarations:
            base, declared = typing.get_args(annotation)[:2]
            annotations[name] = Annotated[base, declared.to_typer()]
            parameters.append(
                inspect.Parameter(
                    name,
                    inspect.Parameter.POSITIONAL_OR_KEYWORD,
                    annotation=annotations[name],
                    default=inspect.Parameter.empty if default is _EMPTY else default,
                )
            )
        call.__name__ = call.__qualname__ = self.function.__name__
        call.__doc__ = self.function.__doc__
        call.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
        call.__annotations__ = annotations
        call.dlv_command = self  # type: ignore[attr-defined]  # for common.hints_of
        app.command(self.name, help=self.help, no_args_is_help=self.no_args_is_help)(call)

    # ------------------------------------------------------------------ the quick parser

    def parse(self, args: list[str]) -> QuickContext | None:
        """``args`` (after the command's name) as click would read them, or None where only
        typer can say what they mean (see the module's docstring)."""
        if self.no_args_is_help and not args:
            return None
        parameters = self.parameters
        by_name: dict[str, Parameter] = {}
        positional: list[Parameter] = []
        for p in parameters:
            if p.kind == "argument":
                positional.append(p)
            for opt in p.opts:
                if "/" in opt or " " in opt:
                    return None  # on/off pairs: not used by dlv, left to click
                by_name[opt] = p
        given: dict[str, Any] = {}
        # click fills ctx.params with the options in the order given, then the arguments,
        # then the defaults in declaration order
        order: list[str] = []
        arguments: list[str] = []
        i = 0
        while i < len(args):
            arg = args[i]
            i += 1
            if arg[:1] == "-" and len(arg) > 1:
                name, eq, inline = arg.partition("=") if arg[:2] == "--" else (arg, "", "")
                p = by_name.get(name)  # '--' and '--help' are not in it: typer's
                if p is None or p.kind != "option":
                    return None
                if p.flag:
                    if eq:
                        return None
                    value: Any = True
                else:
                    if not eq:
                        if i >= len(args):
                            return None
                        inline = args[i]
                        i += 1
                    ok, value = p.convert(inline)
                    if not ok:
                        return None
            else:
                if len(positional) == 0:
                    return None
                p = positional.pop(0)
                ok, value = p.convert(arg)
                if not ok:
                    return None
            if p.name not in given:
                (arguments if p.kind == "argument" else order).append(p.name)
            if p.multiple:
                given[p.name] = given.get(p.name, ()) + (value,)
            else:
                given[p.name] = value
        params: dict[str, Any] = {}
        sources: dict[str, str] = {}
        for name in order + arguments:
            params[name] = given[name]
            sources[name] = COMMAND_LINE
        for p in parameters:
            if p.name not in params:
                if p.required:
                    return None
                params[p.name] = p.click_default()
                sources[p.name] = DEFAULT
        return QuickContext(QuickCommand(self), params, sources)

    def keywords(self, ctx: QuickContext) -> dict[str, Any]:
        """The keyword arguments typer would pass the function for this context."""
        return {p.name: p.keyword(ctx.params[p.name]) for p in self.parameters}

    def run_quick(self, args: list[str]) -> tuple[bool, Any]:
        """(True, the function's result) when :meth:`parse` reads ``args``, else (False, None)."""
        ctx = self.parse(args)
        if ctx is None:
            return False, None
        return True, self.function(ctx, **self.keywords(ctx))
