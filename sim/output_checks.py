"""Checks of output paths: what patrolsim may write, scenario names as folder names, the lock.

Every check raises :class:`OutputError` (an ``InputError``: one line naming the path, the key
and the fix, exit code 2) before any work starts. ``sim.outputs`` uses these to write results
folders; the rules are in docs/guide.md, "Output folders are safe".
"""

from __future__ import annotations

import errno
import json
import os
import shutil
from contextlib import contextmanager
from pathlib import Path

from sim.errors import InputError

#: The marker file inside every results folder patrolsim writes.
MARKER = ".patrolsim-results"
#: Version of the marker's content and of the folder layout it vouches for.
FORMAT_VERSION = 1
#: Longest scenario name used as a folder name (characters); file systems allow 255 bytes.
MAX_NAME_CHARS = 100


class OutputError(InputError):
    """An output path patrolsim refuses to write (it would destroy something, or cannot be written)."""


# --------------------------------------------------------------------------- names
def safe_name(name: str, *, file: str | None = None, key: str = "name") -> str:
    """``name`` when it is one plain folder name; otherwise an :class:`OutputError` naming ``key``.

    Refused: empty, ``.``, ``..``, a leading dot (hidden, and patrolsim's own temporary
    names start with one), a path separator, control characters, and more than
    ``MAX_NAME_CHARS`` characters.
    """
    fix = "use a short plain name such as 'north-district' (letters, digits, - and _), or give --out"
    text = str(name)
    shown = text if len(text) <= 40 else text[:37] + "..."
    shown = shown.encode("unicode_escape").decode("ascii")
    if not text.strip():
        raise OutputError("is empty, so it cannot name a results folder", file=file, key=key, fix=fix)
    if text in (".", ".."):
        raise OutputError(f"'{text}' is not a folder name (it would write over results/ or above it)",
                          file=file, key=key, fix=fix)
    if len(text) > MAX_NAME_CHARS:
        raise OutputError(f"is {len(text)} characters long; a results folder name has at most {MAX_NAME_CHARS}",
                          file=file, key=key, fix=fix)
    if "/" in text or "\\" in text or os.sep in text or (os.altsep and os.altsep in text):
        raise OutputError(f"'{shown}' holds a path separator, so it would write outside results/",
                          file=file, key=key, fix=fix)
    if not all(ch.isprintable() for ch in text):
        raise OutputError(f"'{shown}' holds control characters", file=file, key=key, fix=fix)
    if text.startswith("."):
        raise OutputError(f"'{shown}' starts with a dot (a hidden folder)", file=file, key=key, fix=fix)
    return text


def default_folder(name: str, *parts: str, file: str | None = None, key: str = "name") -> Path:
    """``results/<parts...>/<name>``, with ``name`` checked by :func:`safe_name`."""
    return Path("results", *parts, safe_name(name, file=file, key=key))


# --------------------------------------------------------------------------- checks
def read_marker(folder: Path) -> dict | None:
    """The marker of a folder patrolsim wrote, or None (no marker, or unreadable)."""
    try:
        data = json.loads((Path(folder) / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and "patrolsim_results" in data else None


def _under_a_file(path: Path) -> Path | None:
    for parent in path.parents:
        if parent.exists() and not parent.is_dir():
            return parent
    return None


def as_output_error(exc: OSError, target: Path, key: str) -> OutputError:
    reason = exc.strerror or type(exc).__name__
    if exc.errno == errno.ENAMETOOLONG:
        fix = "give a shorter name"
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        fix = "choose a folder you can write to"
    else:
        fix = "choose another place"
    return OutputError(f"cannot be written ({reason})", file=_shown(target), key=key, fix=fix)


def _shown(path: Path) -> str:
    """A path short enough for a one-line error."""
    text = str(path)
    return text if len(text) <= 120 else text[:60] + "..." + text[-40:]


def check_folder(target: Path, *, overwrite: bool = False, key: str = "--out") -> None:
    """Raise :class:`OutputError` unless patrolsim may write the results folder ``target``.

    Allowed: a path that does not exist (under folders, not files), an empty folder, a
    folder patrolsim wrote (its marker lists every file in it), and, with ``overwrite``, a
    folder patrolsim wrote that holds other files too.
    """
    try:
        _check_folder(Path(target), overwrite=overwrite, key=key)
    except OSError as exc:  # a name too long, a folder we may not list, ...
        raise as_output_error(exc, Path(target), key) from None


def _check_folder(target: Path, *, overwrite: bool, key: str) -> None:
    fix_name = "give another --out name" if key == "--out" else "give --out a new folder name"
    blocker = _under_a_file(target)
    if blocker is not None:
        raise OutputError(f"is under {blocker}, which is a file, not a folder", file=_shown(target), key=key,
                          fix=fix_name)
    if target.exists() and not target.is_dir():
        raise OutputError("is a file, not a folder; patrolsim will not replace it", file=_shown(target), key=key,
                          fix=f"{fix_name}, or move the file away")
    here = Path.cwd().resolve()
    resolved = target.resolve()
    if resolved == here or resolved in here.parents:
        raise OutputError("is the current folder (or holds it); a run cannot replace it", file=_shown(target),
                          key=key, fix=fix_name)
    if not target.is_dir():
        return
    try:
        names = sorted(p.name for p in target.iterdir())
    except OSError as exc:
        raise as_output_error(exc, target, key) from None
    if not names:
        return
    marker = read_marker(target)
    if marker is None:
        raise OutputError("is a folder patrolsim did not write and it is not empty; patrolsim will not replace it "
                          "(not even with --overwrite)", file=_shown(target), key=key,
                          fix=f"{fix_name}, or empty or remove the folder yourself")
    ours = set(marker.get("files") or []) | {MARKER}
    extra = [n for n in names if n not in ours]
    if extra and not overwrite:
        listed = ", ".join(extra[:3]) + (f" and {len(extra) - 3} more" if len(extra) > 3 else "")
        raise OutputError(f"holds files patrolsim did not write ({listed})", file=_shown(target), key=key,
                          fix=f"move them away, {fix_name}, or add --overwrite to replace the folder and them")


def check_file(target: Path, *, key: str = "--out") -> None:
    """Raise :class:`OutputError` unless ``target`` can be written as a file (an existing
    file is replaced atomically; a folder or a path under a file is refused)."""
    try:
        _check_file(Path(target), key=key)
    except OSError as exc:
        raise as_output_error(exc, Path(target), key) from None


def _check_file(target: Path, *, key: str) -> None:
    blocker = _under_a_file(target)
    if blocker is not None:
        raise OutputError(f"is under {blocker}, which is a file, not a folder", file=_shown(target), key=key,
                          fix="give another file name")
    if target.is_dir():
        raise OutputError("is a folder, not a file; patrolsim will not replace it", file=_shown(target), key=key,
                          fix="give a file name, e.g. inside that folder")


# --------------------------------------------------------------------------- lock
@contextmanager
def folder_lock(target: Path, *, key: str = "--out"):
    """Hold ``.<name>.lock`` beside ``target`` (fcntl.flock); another holder fails at once.

    The lock file is removed on release; a lock left by a killed process is not held
    by anyone (the kernel drops flocks with their process) and is simply taken over.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no cross-process lock
        yield
        return
    target = Path(target)
    path = target.parent / f".{target.name}.lock"
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise as_output_error(exc, target, key) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            try:
                holder = os.read(fd, 64).decode("ascii", "replace").strip() or "?"
            except OSError:
                holder = "?"
            os.close(fd)
            raise OutputError(f"another patrolsim (process {holder}) is writing this folder now",
                              file=_shown(target), key=key,
                              fix="wait for it to finish, or give another --out name") from None
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # the previous holder removed the file between our open and lock: try again
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode("ascii"))
        yield
    finally:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        os.close(fd)


def remove_stale(target: Path) -> None:
    """Temporary folders of a killed earlier run on ``target`` (only called while holding its lock)."""
    for pattern in (f".{target.name}.partial-*", f".{target.name}.old-*"):
        for p in target.parent.glob(pattern):
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)
