"""Writing a folder atomically: it appears complete or not at all.

Everything is written into a temporary sibling folder, which replaces the target
only once the body of :func:`atomic_directory` has finished without error; an
error removes the temporary folder and leaves any previous target untouched.
Used for results directories and generated instances.

Replacing a folder deletes what was in it, so a folder is only replaced when
that is safe (:func:`check_output_folder`): never the current folder or one that
holds it, never through a symbolic link that points nowhere, and, when the
writer says what its folders hold, never one holding other files (``wfopt solve
--out ~/plans`` must not wipe a planner's folder). A writer that marks its
folders (:class:`Marked`) replaces only a folder carrying its mark, a manifest
of what it wrote: a suffix proves nothing (a planner's own ``.csv`` files).

Kills and races. A killed writer leaves its temporary folder behind; the next
writer to the same target removes it. Each writer holds a lock on its own
temporary folder while it lives, so a folder whose lock can be taken is stale
(a process id could be reused; a lock cannot outlive its process). The final
swap, and the clean-up, run under a lock on the parent folder: two processes
writing the same target are serialised, and the later one replaces the
earlier one's folder whole (it carries the mark) instead of failing half-way.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from optimiser.errors import shorten

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no locks, the swap is still atomic
    fcntl = None  # type: ignore[assignment]

Replaceable = Callable[[Path], bool]
"""Whether an existing, non-empty folder holds only what the writer writes."""

MARKER = ".wfopt-output.json"
"""The mark of a folder a :class:`Marked` writer wrote: ``written_by`` and the
``files`` it wrote (paths relative to the folder)."""

MAX_MARKER_BYTES = 16 * 2**20
"""A marker larger than this is not read (and the folder not replaced)."""

LOCK_WAIT = 120.0
"""Seconds a writer waits for another writing beside it before giving up."""


class OutputFolderError(ValueError):
    """The output folder cannot be replaced safely; the text is one
    ``location | message`` line."""


def only_files_with_suffixes(*suffixes: str) -> Replaceable:
    """A :data:`Replaceable` accepting folders that hold only files with these
    suffixes (what an earlier run of the same writer leaves)."""

    def check(folder: Path) -> bool:
        return all(p.is_file() and p.suffix in suffixes for p in folder.iterdir())

    return check


@dataclass(frozen=True)
class Marked:
    """A :data:`Replaceable` for a writer that marks its folders.

    :func:`atomic_directory` writes :data:`MARKER` into the folder, listing
    every file and folder written; an existing folder may be replaced only when
    its marker names this ``writer`` and it holds nothing the marker does not
    list, except files named in ``later`` (what other commands add to such a
    folder, e.g. ``report.html`` by ``wfopt report``)."""

    writer: str
    later: frozenset[str] = field(default_factory=frozenset)

    def __call__(self, folder: Path) -> bool:
        listed = read_marker(folder, self.writer)
        if listed is None:
            return False
        for root, dirs, files in os.walk(folder):
            rel = Path(root).relative_to(folder)
            for name in dirs:
                if (rel / name).as_posix() + "/" not in listed:
                    return False
            for name in files:
                path = (rel / name).as_posix()
                if path == MARKER or path in listed:
                    if not (Path(root) / name).is_symlink():
                        continue
                    return False  # wfopt writes no links: someone else put it there
                if rel == Path(".") and name in self.later \
                        and not (Path(root) / name).is_symlink():
                    continue
                return False
        return True


def read_marker(folder: Path, writer: str) -> set[str] | None:
    """The paths the :data:`MARKER` of ``folder`` lists, or None when it has
    none, or one of another writer, or one that cannot be read."""
    path = folder / MARKER
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_MARKER_BYTES:
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("written_by") != writer:
        return None
    files = data.get("files")
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        return None
    return set(files)


def write_marker(folder: Path, writer: str) -> None:
    """Mark ``folder`` as written by ``writer``, listing what it holds now."""
    listed = []
    for root, dirs, files in os.walk(folder):
        rel = Path(root).relative_to(folder)
        listed += [(rel / d).as_posix() + "/" for d in dirs]
        listed += [(rel / f).as_posix() for f in files if (rel / f).as_posix() != MARKER]
    with (folder / MARKER).open("w", encoding="utf-8") as fh:
        json.dump({"written_by": writer, "files": sorted(listed)}, fh, indent=1)
        fh.write("\n")


def _shown(out_dir: str | Path) -> str:
    return shorten(out_dir, 200)


def check_output_folder(out_dir: str | Path, replaceable: Replaceable | None = None,
                        probe: bool = True) -> Path:
    """The resolved ``out_dir``, or :class:`OutputFolderError` when writing there
    would replace something it should not, or cannot work.

    Checked before a solve, so that a refusal costs nothing: a symbolic link
    that points nowhere (following it would create its target), a file in the
    way (the folder or one above it), a folder not written by this writer, and
    (``probe``) a place where no folder can be created (``/proc/x``, a read-only
    disk): a folder is created there and removed."""
    shown = _shown(out_dir)
    given = Path(out_dir)
    if "\0" in str(out_dir):
        raise OutputFolderError(f"{shown} | the path holds a NUL character")
    if given.is_symlink() and not given.exists():
        raise OutputFolderError(f"{shown} | is a symbolic link to nothing; following it "
                                "would create its target: remove the link or name a folder")
    try:
        out = given.resolve()
    except (OSError, RuntimeError) as exc:  # a loop of links
        raise OutputFolderError(f"{shown} | cannot be resolved: {exc}") from None
    if out.exists():
        if not out.is_dir():
            raise OutputFolderError(f"{shown} | exists and is not a folder")
        cwd = Path.cwd().resolve()
        if out == cwd or out in cwd.parents:
            raise OutputFolderError(f"{shown} | is the current folder or holds it, and "
                                    "would be replaced whole; name a new folder")
        try:
            foreign = replaceable is not None and any(out.iterdir()) and not replaceable(out)
        except OSError as exc:
            raise OutputFolderError(f"{shown} | cannot be read: {exc.strerror}") from None
        if foreign:
            what = (f"was not written by {replaceable.writer} (it has no {MARKER} listing "
                    "its files) or holds files it did not write"
                    if isinstance(replaceable, Marked)
                    else "holds files this command does not write")
            raise OutputFolderError(f"{shown} | {what}, and would be replaced whole; name "
                                    "a new or empty folder")
    if probe:
        _probe(out, shown)
    return out


def _probe(out: Path, shown: str) -> None:
    """Create and remove a folder beside ``out`` (creating nothing else): the
    write will need to."""
    parent = out.parent
    while not parent.exists():
        if parent.is_symlink():
            raise OutputFolderError(f"{shown} | {parent} is a symbolic link to nothing")
        parent = parent.parent
    if not parent.is_dir():
        raise OutputFolderError(f"{shown} | {_shown(parent)} is a file, not a folder")
    trial = parent / f".{out.name[:100]}.{os.getpid()}-{secrets.token_hex(4)}.probe"
    try:
        trial.mkdir()
    except OSError as exc:
        raise OutputFolderError(f"{shown} | no folder can be created in {_shown(parent)}: "
                                f"{exc.strerror or type(exc).__name__}") from None
    with suppress(OSError):
        trial.rmdir()


@contextmanager
def _locked(folder: Path, shown: str) -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` (the output's parent): one writer at a
    time swaps folders there and removes stale ones."""
    if fcntl is None:
        yield
        return
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        yield  # a folder that cannot be opened cannot be locked; the swap still is atomic
        return
    try:
        waited = 0.0
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if waited >= LOCK_WAIT:
                    raise OutputFolderError(
                        f"{shown} | another wfopt has been writing beside it for "
                        f"{LOCK_WAIT:.0f} s; try again when it has finished") from None
                time.sleep(0.05)
                waited += 0.05
            except OSError:
                break  # locks not supported here (some network disks)
        yield
    finally:
        os.close(fd)  # releases the lock


def _hold(folder: Path) -> int | None:
    """Lock ``folder`` (a writer's own temporary folder) for the life of this
    process; the descriptor to close when done."""
    if fcntl is None:
        return None
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    with suppress(OSError):
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return fd


def _stale(path: Path) -> bool:
    """Whether nobody holds ``path`` (a temporary folder): its writer is gone."""
    if fcntl is None:
        match = re.search(r"\.(\d+)-[0-9a-f]+\.(tmp|old|probe)$", path.name)
        if match is None:
            return False
        try:
            os.kill(int(match.group(1)), 0)
        except ProcessLookupError:
            return True
        except OSError:
            return False
        return False
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def clean_stale(out: Path) -> list[Path]:
    """Remove what killed writers left beside ``out`` (call under the parent's
    lock): temporary folders nobody holds, and a previous folder moved aside
    for a swap that never finished, which is put back when ``out`` is missing.
    Returns what was removed or restored."""
    pattern = re.compile(rf"^\.{re.escape(out.name)}\.(\d+-[0-9a-f]+\.(tmp|old|probe)"
                         r"|old-\d+)$")
    done = []
    try:
        siblings = list(out.parent.iterdir())
    except OSError:
        return done
    for p in siblings:
        match = pattern.match(p.name)
        if match is None or p.is_symlink() or not p.is_dir():
            continue
        aside = match.group(2) == "old" or match.group(1).startswith("old-")
        # A folder moved aside is only ever there during a swap, under the lock
        # held now: it is stale for certain.
        if not aside and not _stale(p):
            continue
        if aside and not out.exists():
            with suppress(OSError):
                os.replace(p, out)
                done.append(p)
                continue
        shutil.rmtree(p, ignore_errors=True)
        done.append(p)
    return done


@contextmanager
def atomic_directory(out_dir: str | Path, replaceable: Replaceable | None = None
                     ) -> Iterator[Path]:
    """Yield an empty temporary folder that replaces ``out_dir`` on success.

    Raises :class:`OutputFolderError` first when ``out_dir`` may not be replaced
    (see :func:`check_output_folder`), and again at the swap if it has become
    so meanwhile (another process wrote there). A :class:`Marked` writer's
    folder gets its marker before the swap.
    """
    shown = _shown(out_dir)
    out = check_output_folder(out_dir, replaceable)
    out.parent.mkdir(parents=True, exist_ok=True)
    with _locked(out.parent, shown):
        clean_stale(out)
    # mkdir (not mkdtemp, which makes it private to the owner): the result gets
    # the permissions any new folder gets.
    tag = f"{os.getpid()}-{secrets.token_hex(4)}"
    tmp = out.with_name(f".{out.name}.{tag}.tmp")
    tmp.mkdir()
    held = _hold(tmp)
    try:
        yield tmp
        if isinstance(replaceable, Marked):
            write_marker(tmp, replaceable.writer)
        with _locked(out.parent, shown):
            check_output_folder(out_dir, replaceable, probe=False)
            old = None
            if out.exists():
                # A rename of a folder cannot replace a non-empty one: move it aside first.
                old = out.with_name(f".{out.name}.{tag}.old")
                os.replace(out, old)
            try:
                os.replace(tmp, out)
            except BaseException:
                if old is not None:
                    os.replace(old, out)  # put the previous folder back
                raise
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        if held is not None:
            os.close(held)


def write_file_atomically(data: bytes | str, path: str | Path) -> Path:
    """``data`` (text is written as UTF-8 with ``\n`` line ends) into ``path``
    through a temporary sibling renamed into place, so that a failed run never
    leaves half a file. ``mkstemp`` makes the file private (0600); a report or a
    workbook is for sharing, so it gets the permissions of any new file (0666
    less the umask). Returns the resolved path."""
    path = Path(path).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
