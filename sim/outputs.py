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

import json
import math
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

from sim.output_checks import (  # noqa: F401 - also importable from here, as before
    FORMAT_VERSION, MARKER, MAX_NAME_CHARS, OutputError, as_output_error, check_file, check_folder,
    default_folder, folder_lock, read_marker, remove_stale, safe_name,
)


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
        raise as_output_error(exc, target, key) from None
    with folder_lock(target, key=key):
        check_folder(target, overwrite=overwrite, key=key)  # again, now that nobody else can write it
        remove_stale(target)
        try:
            tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
            os.chmod(tmp, 0o755)  # mkdtemp makes it private; a results folder is an ordinary folder
        except OSError as exc:
            raise as_output_error(exc, target, key) from None
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
                raise as_output_error(exc, target, key) from None
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
        raise as_output_error(exc, target, key) from None
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
            raise as_output_error(exc, target, key) from None
        try:
            yield target
        except BaseException:
            # a folder made for this command that got nothing but the marker is not left behind
            if created and [p.name for p in target.iterdir()] == [MARKER]:
                shutil.rmtree(target, ignore_errors=True)
            raise


# --------------------------------------------------------------------------- files
def write_text_atomic(path: Path, text: str, *, key: str = "--out") -> None:
    """Write ``text`` to ``path`` atomically, after the checks of a user-named output file."""
    path = Path(path)
    check_file(path, key=key)
    try:
        atomic_write_text(path, text)
    except OSError as exc:
        raise as_output_error(exc, path, key) from None


def write_json_atomic(path: Path, data: dict, *, key: str = "--out") -> None:
    """Write JSON to a temporary file beside ``path`` and rename it into place."""
    write_text_atomic(path, json.dumps(_clean(data), indent=2, allow_nan=False) + "\n", key=key)


def write_run_log(folder: Path, log: dict) -> None:
    """``run.log.json``: timings and facts of this machine, kept out of the results so that
    the same scenario and seed give byte-identical files everywhere else in the folder."""
    write_json(Path(folder) / RUN_LOG, log)


#: The one file of a results folder that differs between two runs of the same scenario and seed.
RUN_LOG = "run.log.json"


# --------------------------------------------------------------------------- single files, atomically
def _file_mode() -> int:
    """rw for everyone the umask allows (``mkstemp`` alone would make result files private)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def atomic_write(target: Path, write) -> Path:
    """Call ``write(tmp_path)`` on a temporary file beside ``target``, then rename it into place.

    Readers see the old file or the complete new one, never half of it; on any error the
    temporary file is removed. The one atomic single-file writer of the package (sweep parts,
    consolidated tables, manifests); a whole folder goes through :func:`atomic_folder`.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, _file_mode())
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def atomic_write_text(target: Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``target`` atomically."""
    return atomic_write(target, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def atomic_write_parquet(target: Path, frame) -> Path:
    """Write a pandas DataFrame to ``target`` as parquet (no index), atomically."""
    return atomic_write(target, lambda tmp: frame.to_parquet(tmp, index=False))


def adopt(folder: Path, *names: str) -> None:
    """Record in a results folder's marker that patrolsim wrote ``names`` there afterwards (a
    report, GIS layers), so that they count as its own files: a later run may replace the folder
    without ``--overwrite``. A folder without a marker is left as it is."""
    folder = Path(folder)
    marker = read_marker(folder)
    if marker is None:
        return
    files = sorted(set(marker.get("files") or []) | set(names))
    atomic_write_text(folder / MARKER, json.dumps({**marker, "files": files}, indent=2) + "\n")
