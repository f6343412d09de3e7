"""Options shared by every command, and the ``--config`` merge (docs/conventions.md).

A command takes the shared options it names (``shared_options(...)``, declared once
below) and starts with ``params, settings = prepare(ctx)``: the command line wins over
the YAML file, which wins over the defaults, and an unknown YAML key is an error.
"""

import enum
from typing import Annotated, Any, Optional

from dlvcli.cli.params import Context, Option
from dlvcli.errors import InputError
from dlvcli.render.output import OutputSettings

COMMON = "Output and common options"


class OutputFormat(str, enum.Enum):
    text = "text"
    json = "json"
    markdown = "markdown"


ConfigOption = Annotated[
    Optional[str],
    Option(
        "--config",
        "-c",
        metavar="FILE.yaml",
        help="YAML mapping of this command's long option names to values ('file' for the positional "
        "argument). Options on the command line override it.",
        rich_help_panel=COMMON,
    ),
]
FormatOption = Annotated[
    OutputFormat,
    Option("--format", "-f", help="text (tables and derivation), json, or markdown (with LaTeX).", rich_help_panel=COMMON),
]
JsonOption = Annotated[bool, Option("--json", help="Short for --format json.", rich_help_panel=COMMON)]
DigitsOption = Annotated[
    int, Option("--digits", min=0, max=17, help="Decimals shown in text and markdown (JSON is never rounded).", rich_help_panel=COMMON)
]
ExactOption = Annotated[
    bool,
    Option("--exact", help="Show exact fractions where every input is rational; JSON gains *_exact strings.", rich_help_panel=COMMON),
]
PlotOption = Annotated[
    Optional[str],
    Option("--plot", metavar="FILE.png", help="Write the command's picture (.png, .svg or .pdf).", rich_help_panel=COMMON),
]
DebugOption = Annotated[
    bool, Option("--debug", help="Show a traceback on internal errors (also DLV_DEBUG=1).", rich_help_panel=COMMON)
]

# name → (annotation, default): the shared options, in the order --help lists them
SHARED_OPTIONS = {
    "config": (ConfigOption, None),
    "output_format": (FormatOption, OutputFormat.text),
    "json_output": (JsonOption, False),
    "digits": (DigitsOption, 4),
    "exact": (ExactOption, False),
    "plot": (PlotOption, None),
    "debug": (DebugOption, False),
}
SHARED_KEYS = tuple(SHARED_OPTIONS)


def shared_options(*names: str) -> tuple[tuple[str, Any, Any], ...]:
    """(name, annotation, default) of the shared options a command takes (all of them
    when no names are given)."""
    return tuple((name, *SHARED_OPTIONS[name]) for name in names or SHARED_OPTIONS)
# Positional/option values that name input files: relative paths in a config file are
# taken relative to the config file's folder.
INPUT_PATH_KEYS = ("file", "gt")


def _option_names(ctx: Context) -> dict[str, Any]:
    """Config key (long option name, '-' as '_') → click parameter."""
    names: dict[str, Any] = {}
    for param in ctx.command.params:
        if param.name in ("config", "help"):
            continue
        long_names = [o[2:] for o in getattr(param, "opts", []) if o.startswith("--")]
        for name in long_names or [param.name]:
            names[name.replace("-", "_")] = param
    return names


def _encode(value: Any) -> str:
    if isinstance(value, str):
        return value
    import json  # only for --config values: text output need not load it

    try:
        return json.dumps(value)
    except (TypeError, ValueError, RecursionError) as exc:  # a YAML date, set, bytes, a cycle
        raise ValueError(f"expected numbers, text, lists or mappings ({exc})") from None


def _annotations(ctx: Context) -> dict[str, Any]:
    """Parameter name → its Python type (Optional and Annotated stripped), from the command's declaration."""
    command = getattr(ctx.command, "dlv_command", None)  # dlv's own parser's context
    if command is None:  # click's: typer keeps dlv's function, and its attributes, as the callback
        command = ctx.command.callback.dlv_command
    return command.hints()


def _convert(value: Any, hint: Any) -> Any:
    """A YAML value → what the command line would have given for an option of type ``hint``."""
    import typing

    if typing.get_origin(hint) in (list, tuple):
        (item_type,) = typing.get_args(hint)[:1] or (str,)
        if isinstance(value, dict):
            items = [f"{k}={v}" for k, v in value.items()]
        elif isinstance(value, list):
            items = value
        else:
            items = [value]
        return tuple(_convert(item, item_type) for item in items)
    if hint is bool:
        if not isinstance(value, bool):
            raise ValueError(f"expected true or false, got {value!r}")
        return value
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        choices = [m.value for m in hint]
        if str(value) not in choices:
            raise ValueError(f"{value!r} is not one of {', '.join(map(str, choices))}")
        return hint(str(value))
    if hint is int:
        if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, str) and value.strip().lstrip("-").isdigit())):
            raise ValueError(f"expected a whole number, got {value!r}")
        return int(value)
    if hint is float:
        if isinstance(value, bool):
            raise ValueError(f"expected a number, got {value!r}")
        return float(value)
    return _encode(value)


def apply_config(ctx: Context, path: str) -> None:
    """Merge a ``--config`` YAML file into ``ctx.params`` (the command line wins)."""
    from pathlib import Path

    from dlvcli.inputs.config import load_option_file

    base = Path(path).parent if path != "-" else Path(".")
    apply_option_entries(ctx, load_option_file(path), path, base)


def apply_option_entries(ctx: Context, entries: list, path: str, base: "Path") -> None:
    """Merge option entries (``ConfigEntry``: key, value, line) into ``ctx.params``.

    The body of the ``--config`` merge, shared with ``dlv solve`` (whose problems are
    option mappings inside a sheet): an option given on the command line wins, an
    unknown key is an :class:`InputError` naming ``path`` and the entry's line, values
    are converted as the command line would give them, and relative input paths
    (``file``, ``gt``) are taken relative to ``base``.
    """
    from pathlib import Path

    params = _option_names(ctx)
    hints = _annotations(ctx)
    for entry in entries:
        name = entry.key.replace("-", "_")
        param = params.get(name)
        if param is None or name in ("config",):
            known = ", ".join(sorted(k.replace("_", "-") for k in params if k not in ("debug",)))
            raise InputError(f"unknown key {entry.key!r}", file=path, line=entry.line, expected=f"one of: {known}")
        source = ctx.get_parameter_source(param.name)
        if source is not None and source.name not in ("DEFAULT", "DEFAULT_MAP"):
            continue  # given on the command line
        try:
            value = _convert(entry.value, hints.get(param.name, str))
        except ValueError as exc:
            raise InputError(f"option {entry.key!r}: {exc}", file=path, line=entry.line) from None
        if param.name in INPUT_PATH_KEYS and isinstance(value, str) and value != "-":
            candidate = base / value
            if not Path(value).is_absolute() and (candidate.exists() or not Path(value).exists()):
                value = str(candidate)
        ctx.params[param.name] = value
    # the command line checks ranges as it parses; merged values must pass the same check
    check_ranges(ctx, ctx.params)


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def check_ranges(ctx: Context, params: dict) -> None:
    """The options' ranges (--count 1..10000, --size 1..10, …) for values from --config too.

    The command line checks them as it parses; a value merged from a --config file does not
    pass through that check, and an unchecked --count 100000000 would run for hours.
    """
    for param in ctx.command.params:
        # typer ≥ 0.29 keeps the range on the parameter, click (older typer) on its IntRange type
        holder = param if getattr(param, "min", None) is not None or getattr(param, "max", None) is not None else getattr(param, "type", None)
        low, high = getattr(holder, "min", None), getattr(holder, "max", None)
        value = params.get(param.name)
        if not isinstance(value, int) or isinstance(value, bool) or (low is None and high is None):
            continue
        if (low is not None and value < low) or (high is not None and value > high):
            flag = next((o for o in getattr(param, "opts", ()) if o.startswith("--")), param.name)
            bounds = f"from {low} to {high}" if low is not None and high is not None else (f"≥ {low}" if low is not None else f"≤ {high}")
            raise InputError(f"{flag} {value}: expected a whole number {bounds}")


def prepare(ctx: Context) -> tuple[dict[str, Any], OutputSettings]:
    """Resolve the command's parameters (defaults ← YAML ← command line) and the output settings."""
    from dlvcli.cli.bulk import fewer_collections

    fewer_collections()  # a command may build many result objects: see dlvcli/cli/bulk.py
    if ctx.params.get("config"):
        apply_config(ctx, ctx.params["config"])
    values = {name: _plain(value) for name, value in ctx.params.items()}
    fmt = "json" if values.get("json_output") else values.get("output_format") or "text"
    inputs = [values.get(k) for k in INPUT_PATH_KEYS if isinstance(values.get(k), str)]
    settings = OutputSettings(
        format=fmt,
        digits=int(values.get("digits", 4)),
        exact=bool(values.get("exact")),
        plot=values.get("plot"),
        input_paths=tuple(inputs) + ((values["config"],) if values.get("config") else ()),
    )
    from dlvcli.render.output import validate_plot_path

    validate_plot_path(settings)
    params = {k: v for k, v in values.items() if k not in SHARED_KEYS}
    return params, settings
