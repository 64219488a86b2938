"""Writing a folder atomically: it appears complete or not at all.

Everything is written into a temporary sibling folder, which replaces the target
only once the body of :func:`atomic_directory` has finished without error; an
error removes the temporary folder and leaves any previous target untouched.
Used for results directories and generated instances.

Replacing a folder deletes what was in it, so a folder is only replaced when
that is safe (:func:`check_output_folder`): never the current folder or one that
holds it, and, when the writer says what its folders hold, never one holding
other files (``wfopt solve --out ~/plans`` must not wipe a planner's folder).
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

Replaceable = Callable[[Path], bool]
"""Whether an existing, non-empty folder holds only what the writer writes."""


class OutputFolderError(ValueError):
    """The output folder cannot be replaced safely; the text is one
    ``location | message`` line."""


def only_files_with_suffixes(*suffixes: str) -> Replaceable:
    """A :data:`Replaceable` accepting folders that hold only files with these
    suffixes (what an earlier run of the same writer leaves)."""

    def check(folder: Path) -> bool:
        return all(p.is_file() and p.suffix in suffixes for p in folder.iterdir())

    return check


def check_output_folder(out_dir: str | Path, replaceable: Replaceable | None = None) -> Path:
    """The resolved ``out_dir``, or :class:`OutputFolderError` when writing there
    would replace something it should not."""
    out = Path(out_dir).resolve()
    if out.exists() or out.is_symlink():
        if not out.is_dir():
            raise OutputFolderError(f"{out_dir} | exists and is not a folder")
        cwd = Path.cwd().resolve()
        if out == cwd or out in cwd.parents:
            raise OutputFolderError(f"{out_dir} | is the current folder or holds it, and "
                                    "would be replaced whole; name a new folder")
        if replaceable is not None and any(out.iterdir()) and not replaceable(out):
            raise OutputFolderError(f"{out_dir} | holds files this command does not write, "
                                    "and would be replaced whole; name a new or empty folder")
    return out


@contextmanager
def atomic_directory(out_dir: str | Path, replaceable: Replaceable | None = None
                     ) -> Iterator[Path]:
    """Yield an empty temporary folder that replaces ``out_dir`` on success.

    Raises :class:`OutputFolderError` first when ``out_dir`` may not be replaced
    (see :func:`check_output_folder`).
    """
    out = check_output_folder(out_dir, replaceable)
    out.parent.mkdir(parents=True, exist_ok=True)
    # mkdir (not mkdtemp, which makes it private to the owner): the result gets
    # the permissions any new folder gets.
    tmp = out.with_name(f".{out.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
    tmp.mkdir()
    try:
        yield tmp
        old = None
        if out.exists():
            # A rename of a folder cannot replace a non-empty one: move it aside first.
            old = out.with_name(f".{out.name}.old-{os.getpid()}")
            os.replace(out, old)
        os.replace(tmp, out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
