"""Guards at clvlab's boundaries: numeric arguments, files to read, files to write.

Three helpers, one per class of hostile input, so that every public function goes through the same
check instead of each catching its own case:

* :func:`real_number` refuses strings, booleans, ``None`` and other non-numbers given for a numeric
  argument (``t``, ``horizon``, ``discount_rate``, ...) with a :class:`TypeError` naming the argument,
  before numpy sees them;
* :func:`require_regular_file` refuses anything but a regular file (a named pipe, a device, a
  directory) before it is opened, so reading never blocks on a FIFO;
* :func:`write_atomically` writes a file through a uniquely named temporary file in the same directory,
  flushed to disk and renamed over the target, so concurrent writers never collide and the previous
  file stays intact when a write fails.
"""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from clvlab.errors import DataError

__all__ = [
    "non_negative",
    "real_number",
    "real_scalar",
    "require_regular_file",
    "whole_count",
    "write_atomically",
]


def _kind(value: Any) -> str:
    return (
        f"{type(value).__name__} {value!r}"
        if not isinstance(value, np.ndarray)
        else f"array of {value.dtype}"
    )


def real_number(value: Any, name: str) -> npt.NDArray[np.float64]:
    """Return ``value`` as a float64 array, or raise :class:`TypeError` naming ``name``.

    Parameters
    ----------
    value : float, int or array-like of them
        The argument as the caller passed it.
    name : str
        The argument's name, for the message.

    Returns
    -------
    numpy.ndarray
        float64, of ``value``'s shape (0-d for a scalar). Range checks are left to the caller.

    Raises
    ------
    TypeError
        If ``value`` is (or holds) a string, bytes, a boolean, ``None``, a complex number, a date or
        anything else that is not a real number.
    """
    if isinstance(value, str | bytes | bool | np.bool_) or value is None:
        raise TypeError(f"{name} must be a number, got {_kind(value)}; pass e.g. {name}=52 (not a string)")
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as exc:  # ragged nesting and the like
        raise TypeError(
            f"{name} must be a number or an array of numbers, got {type(value).__name__}"
        ) from exc
    if arr.dtype.kind == "O":
        bad = next(
            (v for v in arr.reshape(-1) if isinstance(v, str | bytes | bool | np.bool_) or v is None), None
        )
        if bad is not None:
            raise TypeError(f"{name} must hold numbers only, got {type(bad).__name__} {bad!r}")
        try:
            return arr.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name} must hold real numbers only: {exc}") from None
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be a real number or an array of them, got {_kind(value)}")
    return arr.astype(np.float64, copy=False)


def real_scalar(value: Any, name: str) -> float:
    """Return ``value`` as one float, or raise :class:`TypeError` naming ``name``.

    Parameters
    ----------
    value : float or int
        The argument as the caller passed it (a one-element array is accepted).
    name : str
        The argument's name, for the message.

    Returns
    -------
    float
        The value; range checks are left to the caller.

    Raises
    ------
    TypeError
        If ``value`` is not a real number (see :func:`real_number`) or holds more than one.
    """
    arr = real_number(value, name)
    if arr.size != 1:
        raise TypeError(f"{name} must be a single number, got an array of shape {arr.shape}")
    return float(arr.reshape(-1)[0])


def non_negative(value: Any, name: str) -> Any:
    """``value`` as a float or float array, refused (:class:`DataError`) unless finite and ``>= 0``."""
    arr = real_number(value, name)
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise DataError(f"{name} must be finite and non-negative, got {value!r}")
    return arr if arr.ndim else float(arr)


def whole_count(value: Any, name: str) -> Any:
    """``value`` as a float or float array, refused (:class:`DataError`) unless whole numbers ``>= 0``."""
    arr = real_number(value, name)
    if not np.all(np.isfinite(arr)) or np.any(arr < 0) or np.any(arr != np.round(arr)):
        raise DataError(f"{name} must be a non-negative whole number, got {value!r}")
    return arr.astype(np.float64) if arr.ndim else float(arr)


def require_regular_file(path: str | os.PathLike[str], what: str, error: type[Exception]) -> Path:
    """Check, without opening it, that ``path`` is a regular file (following symbolic links).

    Parameters
    ----------
    path : str or os.PathLike
        The file to be read.
    what : str
        What the file should be ("clvlab model file", "transactions"), for the message.
    error : type of Exception
        The clvlab error to raise for a path that exists but is not a regular file.

    Returns
    -------
    pathlib.Path
        ``path`` as a Path.

    Raises
    ------
    FileNotFoundError
        If nothing exists at ``path``.
    error
        If ``path`` is a directory, a named pipe (FIFO), a socket or a device: opening a FIFO blocks until
        a writer appears, so it is refused before any ``open``.
    """
    source = Path(path)
    try:
        mode = os.stat(source).st_mode
    except FileNotFoundError:
        raise FileNotFoundError(2, f"no {what} at this path", str(source)) from None
    if not stat.S_ISREG(mode):
        kind = (
            "a directory"
            if stat.S_ISDIR(mode)
            else "a named pipe (FIFO)"
            if stat.S_ISFIFO(mode)
            else "a socket"
            if stat.S_ISSOCK(mode)
            else "a device"
            if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
            else "not a regular file"
        )
        raise error(f"{source}: is {kind}, not a {what}; pass the path of a regular file")
    return source


def write_atomically(target: Path, write: Callable[[Path], None]) -> None:
    """Write ``target`` through a unique temporary file in its directory, then rename it into place.

    The temporary file is created exclusively (``O_EXCL``) under a random name
    ``.<name>.<random>.tmp`` (like :func:`tempfile.mkstemp`, but with the umask's permissions rather than
    0600, so the saved file gets the usual ones), filled by ``write(tmp_path)``, flushed to disk
    (``fsync``) and renamed over ``target`` with :func:`os.replace`, which is atomic on one file system.
    Concurrent writers to one target each write their own temporary file; the last rename wins and every
    reader sees one complete file. On any failure the temporary file is removed and ``target`` keeps its
    previous content.

    Parameters
    ----------
    target : pathlib.Path
        The file to write; its directory must exist.
    write : callable
        Called with the temporary file's path; writes the whole content to it (it may truncate and
        rewrite the empty file created for it).
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(8)}.tmp")
        try:
            fd = os.open(tmp, flags, 0o666)  # 0o666 honours the umask
        except FileExistsError:  # pragma: no cover - 64 random bits
            continue
        os.close(fd)
        break
    try:
        write(tmp)
        fd = os.open(tmp, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
