"""Atomic file writing and fresh output names, so no run or song is half written or lost."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder.

    Readers see either the old file or the whole new one, never a part. The
    temporary file is named after the process and created with the
    permissions the umask gives, so this takes half the system calls of
    :func:`write_atomic`, which counts when converting thousands of tunes.
    """
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except FileExistsError:
        # Left behind by an earlier process with the same id, or another
        # thread is writing the same path: take a unique name instead.
        write_atomic(path, lambda unique: unique.write_bytes(data))
        return
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(descriptor, view) :]
        finally:
            os.close(descriptor)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` as UTF-8 to ``path`` atomically (see :func:`write_bytes_atomic`)."""
    write_bytes_atomic(path, text.encode("utf-8"))


def write_atomic(path: Path, writer: Callable[[Path], object], suffix: str = ".tmp") -> None:
    """Let ``writer`` fill a temporary file, then move it onto ``path`` in one step.

    Args:
        path: The final file.
        writer: Called with the temporary path; it must write the whole file.
        suffix: Ending of the temporary name, for writers that check it
            (Keras saves only to names ending in ``.keras``).
    """
    path = Path(path)
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    os.close(handle)
    temporary = Path(name)
    try:
        writer(temporary)
        # mkstemp creates the file private (0600); give it the usual permissions.
        os.chmod(temporary, 0o666 & ~_current_umask())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def fresh_directory(parent: Path, name: str) -> Path:
    """Create and return ``parent/name``, adding ``-2``, ``-3``... if it exists already."""
    parent.mkdir(parents=True, exist_ok=True)
    candidate = parent / name
    number = 2
    while True:
        try:
            candidate.mkdir()
            return candidate
        except FileExistsError:
            candidate = parent / f"{name}-{number}"
            number += 1


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
