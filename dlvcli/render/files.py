"""Writing output files whole or not at all.

A file is written to a hidden temporary name in its own folder and renamed onto its
name, so a reader never sees half a file.  The file gets the mode a plain ``open()``
would give it (0666 less the umask), or keeps the mode of the file it replaces;
SIGTERM and SIGHUP during the write remove the temporary file before the process ends
by that signal.
"""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from dlvcli.errors import InputError


def _same_file(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def _is_input(target: Path, inputs: Iterable[str | None]) -> bool:
    """Is ``target`` an input file, or a file inside an input folder (per-image folders)?"""
    try:
        target_stat = target.stat()
    except OSError:
        return False  # a new file cannot be an input
    for source in inputs:
        if not source or source == "-":
            continue
        try:
            source_stat = os.stat(source)
        except OSError:
            continue
        if _same_file(source_stat, target_stat):
            return True
        if stat.S_ISDIR(source_stat.st_mode):
            try:
                with os.scandir(source) as entries:
                    for entry in entries:
                        try:
                            if _same_file(entry.stat(), target_stat):
                                return True
                        except OSError:
                            continue
            except OSError:
                continue
    return False


def _probe_folder(directory: Path, path: str) -> None:
    """Create and remove a file in ``directory``: the one check that holds for root and read-only mounts."""
    try:
        fd, probe = tempfile.mkstemp(prefix=".dlv-probe.", dir=directory)
    except OSError as exc:
        raise InputError(f"cannot write in its folder: {exc.strerror or exc}", file=path) from None
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(probe)


def check_output_path(path: str, inputs: Iterable[str | None] = ()) -> Path:
    """Refuse to write over an input file (or a file in an input folder), or where dlv cannot write."""
    target = Path(path)
    if target.is_dir():
        raise InputError("is a directory, expected a file name to write", file=path)
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.exists():
        raise InputError("its folder does not exist", file=path)
    if not directory.is_dir():
        raise InputError(f"{str(directory)!r} is not a folder", file=path)
    if _is_input(target, list(inputs)):
        raise InputError("is an input file; refusing to write over it", file=path)
    _probe_folder(directory, path)
    return target


def _new_file_mode(target: Path) -> int:
    """The mode of the file being replaced, else what ``open()`` would create (0666 less the umask)."""
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except OSError:
        umask = os.umask(0o022)  # reading the umask means setting it; put it straight back
        os.umask(umask)
        return 0o666 & ~umask


class _Terminated(BaseException):
    """SIGTERM or SIGHUP arrived while a file was being written."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@contextlib.contextmanager
def _terminate_as_exception() -> Iterator[None]:
    """Turn SIGTERM/SIGHUP into :class:`_Terminated` (where they would kill the process outright)."""
    installed: list[int] = []
    if threading.current_thread() is threading.main_thread():

        def handler(signum, frame):
            raise _Terminated(signum)

        for signum in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None)):
            # only where the default (die) is in force: nohup's ignored SIGHUP stays ignored
            if signum is not None and signal.getsignal(signum) is signal.SIG_DFL:
                signal.signal(signum, handler)
                installed.append(signum)
    try:
        yield
    finally:
        for signum in installed:
            signal.signal(signum, signal.SIG_DFL)


def write_atomic(path: str, write: Callable[[str], None], inputs: Iterable[str | None] = ()) -> Path:
    """Call ``write(tmp_name)`` then rename onto ``path``; on any failure nothing is left behind."""
    target = check_output_path(path, inputs)
    directory = target.parent if str(target.parent) else Path(".")
    mode = _new_file_mode(target)
    tmp: str | None = None
    try:
        with _terminate_as_exception():
            try:
                fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=target.suffix, dir=directory)
                os.close(fd)
                write(tmp)
                os.chmod(tmp, mode)  # mkstemp makes 0600
                os.replace(tmp, target)
                tmp = None
            except OSError as exc:
                raise InputError(f"cannot write: {exc.strerror or exc}", file=path) from None
            finally:
                if tmp is not None:
                    with contextlib.suppress(OSError):
                        os.unlink(tmp)
    except _Terminated as exc:
        # the temporary file is gone; now end as the signal would have ended us
        os.kill(os.getpid(), exc.signum)
        raise SystemExit(128 + exc.signum) from None
    return target
