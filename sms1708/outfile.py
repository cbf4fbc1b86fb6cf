"""Files the CLI writes personal data into (exports): private, new, never through a symlink."""

from __future__ import annotations

import contextlib
import os
import stat
import sys
from collections.abc import Iterator
from typing import TextIO

from sms1708.errors import Sms1708Error


class OutputFileError(Sms1708Error):
    """The output file cannot be written safely (exists, a symlink, not a regular file)."""


@contextlib.contextmanager
def private_output(path: str, *, force: bool = False) -> Iterator[TextIO]:
    """Standard output for ``"-"``; else a new file, mode 0600.

    An existing file is overwritten only with ``force`` (and then made 0600 too); a symbolic
    link is never followed, ``force`` or not (``O_NOFOLLOW``, so no race either).
    """
    if path == "-":
        yield sys.stdout
        return
    if os.path.islink(path):
        raise OutputFileError(f"{path} is a symbolic link; refusing to write through it")
    flags = os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
    flags |= os.O_TRUNC if force else os.O_EXCL
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        raise OutputFileError(f"{path} exists; add --force to overwrite it") from None
    except OSError as e:
        raise OutputFileError(f"cannot write {path}: {e.strerror}") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OutputFileError(f"{path} is not a regular file")
        os.fchmod(fd, 0o600)  # an overwritten file keeps no wider mode
    except BaseException:
        os.close(fd)
        raise
    with open(fd, "w", encoding="utf-8", newline="") as f:
        yield f
