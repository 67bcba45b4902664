"""Files in and out, with errors that name the file.

Reading refuses a missing file, a folder and a binary file with a :class:`~xatom.errors.DataFormatError`
naming the path. Writing goes to a temporary file in the target's folder that then replaces the target
(``os.replace``, atomic on one file system), so a failed write (full disk, interrupt) leaves the old file or
none, never a truncated one.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from .errors import DataFormatError, MissingFileError, OutputFolderError


def existing_file(path: str | Path, what: str) -> Path:
    """``path`` as a Path, checked to be an existing file.

    Args:
        path: the file.
        what: what the file should be, for the message (e.g. ``"cube file"``).

    Raises:
        MissingFileError: the path does not exist or is a folder.
    """
    path = Path(path)
    if not path.exists():
        raise MissingFileError(f"{what} {str(path)!r} does not exist")
    if path.is_dir():
        raise MissingFileError(f"{what} {str(path)!r} is a folder, not a file")
    return path


def read_text(path: str | Path, what: str) -> str:
    """The UTF-8 text of an existing file.

    Args:
        path: the file.
        what: what the file should be, for the message (e.g. ``"xyz file"``).

    Raises:
        MissingFileError: the path does not exist or is a folder.
        DataFormatError: the file is binary (not UTF-8) or cannot be read.
    """
    path = existing_file(path, what)
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise DataFormatError(f"{what} {str(path)!r} is not a text file (byte {err.start} is not UTF-8)") from None
    except OSError as err:
        raise DataFormatError(f"cannot read {what} {str(path)!r}: {err.strerror or err}") from None


def write_atomic(path: str | Path, content: str | bytes) -> Path:
    """Write ``content`` (text as UTF-8, or bytes) to ``path`` atomically; returns the path.

    The content goes to a hidden temporary file in the same folder, which then replaces ``path``; on any
    failure the temporary file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        if isinstance(content, str):
            tmp.write_text(content, encoding="utf-8")
        else:
            tmp.write_bytes(content)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def check_output_folder(folder: str | Path, min_free_bytes: int = 0) -> Path:
    """Create ``folder`` if needed and check that a file can be written there and that it has space.

    Args:
        folder: the output folder.
        min_free_bytes: free space the caller needs, in bytes.

    Raises:
        OutputFolderError: the folder cannot be created, is not a folder, is read-only, or has less free
            space than ``min_free_bytes``.
    """
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise OutputFolderError(f"output folder {str(folder)!r} exists but is not a folder") from None
    except OSError as err:
        raise OutputFolderError(f"cannot create the output folder {str(folder)!r}: {err.strerror or err}") from None
    try:
        write_atomic(folder / ".xatom-write-test", b"")
        (folder / ".xatom-write-test").unlink()
    except OSError as err:
        raise OutputFolderError(f"cannot write to the output folder {str(folder)!r}: {err.strerror or err}") from None
    free = shutil.disk_usage(folder).free
    if free < min_free_bytes:
        raise OutputFolderError(f"the output folder {str(folder)!r} has {free / 1e6:.0f} MB free; "
                                f"{min_free_bytes / 1e6:.0f} MB are needed")
    return folder
