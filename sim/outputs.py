"""Writing results safely: patrolsim never destroys a file it did not write.

The rules (docs/guide.md, "Output folders are safe"):

* A results folder that patrolsim writes carries a marker file, ``.patrolsim-results``
  (JSON: the command, the format version and the files it wrote). patrolsim replaces
  an existing folder only when it carries that marker; any other existing path (a
  non-empty folder it did not write, a file where a folder is wanted, a folder where a
  file is wanted) is refused with a one-line error before anything runs.
* A marked folder that also holds files the user put there is replaced only with
  ``--overwrite``. ``--overwrite`` never replaces a folder without the marker: such a
  folder is the user's to empty or remove.
* A run is written into a new hidden folder beside the target and renamed into place
  only when complete; an error, Ctrl-C or SIGTERM removes it.
* The target is checked, locked and its temporary folder created *before* the
  simulation starts, so an unwritable place fails at once, and a second patrolsim
  writing the same folder fails at once instead of silently dropping one result.
* A scenario name becomes a folder under ``results/`` only when it is one plain folder
  name (``safe_name``).
"""

from __future__ import annotations

import errno
import json
import math
import os
import shutil
import tempfile
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


class Interrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM, with the one line to show: what was (not) written where.

    The command line prints the message and exits with code 130."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _clean(x):
    """JSON-safe: NaN and inf become null; numpy scalars become Python numbers."""
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if hasattr(x, "tolist") and getattr(x, "ndim", 0) > 0:
        return _clean(x.tolist())
    if hasattr(x, "item") and not isinstance(x, (str, bytes)):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(_clean(data), indent=2, allow_nan=False) + "\n", encoding="utf-8")


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


def _os_error(exc: OSError, target: Path, key: str) -> OutputError:
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
        raise _os_error(exc, Path(target), key) from None


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
        raise _os_error(exc, target, key) from None
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
        raise _os_error(exc, Path(target), key) from None


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
            raise _os_error(exc, target, key) from None
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


def _remove_stale(target: Path) -> None:
    """Temporary folders of a killed earlier run on ``target`` (only called while holding its lock)."""
    for pattern in (f".{target.name}.partial-*", f".{target.name}.old-*"):
        for p in target.parent.glob(pattern):
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)


def _mark(folder: Path, command: str) -> None:
    from sim import __version__

    files = sorted(p.name for p in folder.iterdir() if p.name != MARKER)
    write_json(folder / MARKER, {"patrolsim_results": FORMAT_VERSION, "command": command,
                                 "patrolsim_version": __version__, "files": files})


# --------------------------------------------------------------------------- folders
@contextmanager
def output_folder(target: Path, *, command: str, overwrite: bool = False, key: str = "--out"):
    """Check and lock ``target``, then yield a new temporary folder beside it.

    Enter this *before* simulating: it fails at once when the place is not writable,
    holds something patrolsim did not write, or is being written by another patrolsim.
    On success the temporary folder gets the marker and is renamed into place (an earlier
    result there is replaced only then); on any error, Ctrl-C or SIGTERM it is removed,
    and the lock is released.
    """
    target = Path(target)
    check_folder(target, overwrite=overwrite, key=key)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _os_error(exc, target, key) from None
    with folder_lock(target, key=key):
        check_folder(target, overwrite=overwrite, key=key)  # again, now that nobody else can write it
        _remove_stale(target)
        try:
            tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
            os.chmod(tmp, 0o755)  # mkdtemp makes it private; a results folder is an ordinary folder
        except OSError as exc:
            raise _os_error(exc, target, key) from None
        try:
            try:
                yield tmp
            except Interrupted:
                raise
            except KeyboardInterrupt:
                raise Interrupted(f"interrupted; nothing written to {target}") from None
            try:
                _mark(tmp, command)
                _replace(tmp, target)
            except OSError as exc:
                raise _os_error(exc, target, key) from None
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def _replace(tmp: Path, target: Path) -> None:
    old = None
    if target.exists():
        old = target.parent / f".{target.name}.old-{os.getpid()}"
        os.replace(target, old)
    try:
        os.replace(tmp, target)
    except BaseException:
        if old is not None:
            os.replace(old, target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def atomic_folder(target: Path, *, command: str = "patrolsim", overwrite: bool = False):
    """Former name of :func:`output_folder` (same checks, marker and lock)."""
    return output_folder(target, command=command, overwrite=overwrite)


@contextmanager
def marked_folder(target: Path, *, command: str, overwrite: bool = False, key: str = "--out"):
    """A results folder written in place over time (a sweep): checked, marked and locked.

    Used where results must survive an interruption (``sweep --resume``), so the folder
    cannot be built aside and renamed. It must be missing, empty or one patrolsim wrote;
    the marker is written first and the lock held while the block runs.
    """
    target = Path(target)
    # a sweep folder grows (parts/, results.parquet): any file in a marked folder is ours
    if target.is_dir() and read_marker(target) is not None:
        check_folder(target, overwrite=True, key=key)
    else:
        check_folder(target, overwrite=overwrite, key=key)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _os_error(exc, target, key) from None
    with folder_lock(target, key=key):
        created = not target.exists()
        try:
            target.mkdir(exist_ok=True)
            if read_marker(target) is None:
                from sim import __version__

                write_text_atomic(target / MARKER, json.dumps(
                    {"patrolsim_results": FORMAT_VERSION, "command": command, "patrolsim_version": __version__,
                     "files": []}, indent=2) + "\n")
        except OSError as exc:
            raise _os_error(exc, target, key) from None
        try:
            yield target
        except BaseException:
            # a folder made for this command that got nothing but the marker is not left behind
            if created and [p.name for p in target.iterdir()] == [MARKER]:
                shutil.rmtree(target, ignore_errors=True)
            raise


# --------------------------------------------------------------------------- files
def write_text_atomic(path: Path, text: str, *, key: str = "--out") -> None:
    """Write ``text`` to a temporary file beside ``path`` and rename it into place."""
    path = Path(path)
    check_file(path, key=key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    except OSError as exc:
        raise _os_error(exc, path, key) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(exc, OSError):
            raise _os_error(exc, path, key) from None
        raise


def write_json_atomic(path: Path, data: dict, *, key: str = "--out") -> None:
    """Write JSON to a temporary file beside ``path`` and rename it into place."""
    write_text_atomic(path, json.dumps(_clean(data), indent=2, allow_nan=False) + "\n", key=key)


def write_run_log(folder: Path, log: dict) -> None:
    """``run.log.json``: timings and facts of this machine, kept out of the results so that
    the same scenario and seed give byte-identical files everywhere else in the folder."""
    write_json(Path(folder) / RUN_LOG, log)


#: The one file of a results folder that differs between two runs of the same scenario and seed.
RUN_LOG = "run.log.json"
