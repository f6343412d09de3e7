"""Writing output files whole or not at all."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from dlvcli.errors import InputError


def check_output_path(path: str, inputs: Iterable[str | None] = ()) -> Path:
    """Refuse to write over an input file or into a folder that does not exist."""
    target = Path(path)
    if target.is_dir():
        raise InputError("is a directory, expected a file name to write", file=path)
    if not target.parent.exists() if str(target.parent) else False:
        raise InputError("its folder does not exist", file=path)
    for source in inputs:
        if source and source != "-" and Path(source).exists() and target.exists():
            if os.path.samefile(source, target):
                raise InputError("is an input file; refusing to write over it", file=path)
    return target


def write_atomic(path: str, write: Callable[[str], None], inputs: Iterable[str | None] = ()) -> Path:
    """Call ``write(tmp_name)`` then rename onto ``path``; on any failure nothing is left behind."""
    target = check_output_path(path, inputs)
    directory = target.parent if str(target.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=target.suffix, dir=directory)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return target
