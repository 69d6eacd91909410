"""Writing a run's folder: all files or none.

Everything is written into a hidden temporary folder beside the target and
renamed into place at the end, so an error or Ctrl-C never leaves a
half-written results folder, and an older result in the same place is only
replaced once the new one is complete.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path


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


def write_json_atomic(path: Path, data: dict) -> None:
    """Write JSON to a temporary file beside ``path`` and rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(_clean(data), indent=2, allow_nan=False) + "\n"
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


@contextmanager
def atomic_folder(target: Path):
    """Yield a temporary folder; on success it replaces ``target``, on error it is removed."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    os.chmod(tmp, 0o755)  # mkdtemp makes it private; a results folder is an ordinary folder
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if target.exists():
        old = target.parent / f".{target.name}.old-{os.getpid()}"
        os.replace(target, old)
    os.replace(tmp, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


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
