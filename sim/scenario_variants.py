"""Scenario variants: a scenario file that names a ``base`` and changes only what differs.

::

    # scenarios/guanghan_doctrine.yaml
    base: default.yaml            # relative to this file's folder
    name: guanghan_doctrine
    dispatch: {policy: own_beat_first}

The base is read first (its own base before it, and so on), then each file on top of it:
mappings merge key by key, anything else (a number, a text, a list, null) replaces what
the base had. A list is replaced whole, so a variant that gives ``demand.hotspots`` gives
every hot spot. Relative paths a base gives (``network.osm.file`` ...) are rewritten to
start at the variant's folder, so they keep pointing at the same file.

Every key remembers the file that set it last (its *origin*); ``scenario.resolved.yaml``
prints it beside the key. Why here and not in the core: this is about files, and reading
them needs yaml, which the core never imports.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import yaml

from sim.errors import ScenarioError

#: Keys that hold a path relative to the scenario file's folder.
PATH_KEYS = (("network", "osm", "file"), ("demand", "fitted"), ("demand", "replay"), ("beats", "geojson"))
MAX_CHAIN = 32


def read_chain(path: Path, read: Callable[[Path], object]) -> list[tuple[Path, dict]]:
    """The files of a variant chain, the root base first and ``path`` last, each with its data
    (without ``base``). A missing base or a cycle is one ScenarioError naming the file and ``base``."""
    chain: list[tuple[Path, dict]] = []
    seen: list[Path] = []
    current = Path(path)
    while True:
        data = read(current)
        if not isinstance(data, dict):
            raise ScenarioError("a scenario must be a mapping of keys to values", file=str(current),
                                fix="start the file with 'name: my-scenario'")
        data = dict(data)
        base = data.pop("base", None)
        chain.append((current, data))
        seen.append(Path(os.path.abspath(current)))
        if base is None:
            break
        if not isinstance(base, str) or not base.strip():
            raise ScenarioError(f"must be the path of a scenario file (got {base!r})", file=str(current),
                                key="base", fix="write e.g. base: default.yaml (relative to this file's folder)")
        nxt = Path(os.path.normpath(Path(current).parent / Path(base).expanduser()))
        if Path(os.path.abspath(nxt)) in seen:
            loop = " -> ".join([p.name for p in seen] + [nxt.name])
            raise ScenarioError(f"the chain of bases loops back ({loop})", file=str(current), key="base",
                                fix="remove 'base' from one of these files, or point it at another scenario")
        if not nxt.is_file():
            raise ScenarioError(f"base scenario '{base}' not found (looked for {nxt})", file=str(current),
                                key="base", fix="give the base's path relative to this file's folder, "
                                                "e.g. base: default.yaml")
        if len(chain) >= MAX_CHAIN:
            raise ScenarioError(f"more than {MAX_CHAIN} bases in a chain", file=str(current), key="base",
                                fix="shorten the chain of bases")
        current = nxt
    chain.reverse()
    return chain


def _rebase_paths(data: dict, src_dir: Path, dst_dir: Path) -> dict:
    """Relative path keys of ``data`` (read from ``src_dir``) rewritten to start at ``dst_dir``."""
    if os.path.abspath(src_dir) == os.path.abspath(dst_dir):
        return data
    out = _copy(data)
    for keys in PATH_KEYS:
        node = out
        for k in keys[:-1]:
            node = node.get(k) if isinstance(node, dict) else None
        value = node.get(keys[-1]) if isinstance(node, dict) else None
        if isinstance(value, str) and value and not Path(value).expanduser().is_absolute():
            node[keys[-1]] = os.path.relpath(os.path.abspath(src_dir / value), os.path.abspath(dst_dir))
    return out


def _copy(x):
    if isinstance(x, dict):
        return {k: _copy(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_copy(v) for v in x]
    return x


def _merge(into: dict, layer: dict, label: str, origins: dict, prefix: tuple = ()) -> None:
    """Merge ``layer`` into ``into`` in place; ``origins`` maps key paths (tuples) to labels."""
    for key, value in layer.items():
        here = prefix + (key,)
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            origins.setdefault(here, label)
            _merge(into[key], value, label, origins, here)
            continue
        for old in [p for p in origins if p[:len(here)] == here]:
            del origins[old]  # a replaced value takes its sub-keys' origins with it
        into[key] = _copy(value)
        _mark(value, here, label, origins)


def _mark(value, here: tuple, label: str, origins: dict) -> None:
    origins[here] = label
    if isinstance(value, dict):
        for k, v in value.items():
            _mark(v, here + (k,), label, origins)


def merge_chain(chain: list[tuple[Path, dict]]) -> tuple[dict, dict]:
    """(merged data, origins) of a chain from ``read_chain``. Labels are file paths relative to
    the last file's folder (``default.yaml``, ``../default.yaml``)."""
    top_dir = chain[-1][0].parent
    merged: dict = {}
    origins: dict = {}
    for file, data in chain:
        label = os.path.relpath(os.path.abspath(file), os.path.abspath(top_dir))
        _merge(merged, _rebase_paths(data, file.parent, top_dir), label, origins)
    return merged, origins


def origin_of(key: str | None, origins: dict) -> str | None:
    """The label of the file that set ``key`` (a dotted path, maybe with [i]) or its section."""
    if not key:
        return None
    parts = tuple(p for p in key.replace("]", "").replace("[", ".").split(".") if p and not p.isdigit())
    for n in range(len(parts), 0, -1):
        if parts[:n] in origins:
            return origins[parts[:n]]
    return None


# --------------------------------------------------------------------------- the resolved file
def _flow(value) -> str:
    """``value`` as one line of YAML flow style (a scalar, [..] or {..})."""
    text = yaml.safe_dump({"k": value}, default_flow_style=True, width=10**9, allow_unicode=True,
                          sort_keys=False).strip()
    return text[len("{k: "):-1] if text.startswith("{k: ") else text[1:-1].split(":", 1)[1].strip()


def annotated_yaml(data: dict, note: Callable[[tuple], str | None]) -> str:
    """Block-style YAML of ``data`` with ``# note`` after each key that has one. Sections open on
    their own line; values (numbers, texts, lists) stay on one line, so that each key, and each
    list as a whole, carries its origin. Loading the text back gives ``data``."""
    lines: list[tuple[str, str | None]] = []

    def walk(node: dict, prefix: tuple, indent: str) -> None:
        for key, value in node.items():
            here = prefix + (key,)
            k = _flow(key)
            if isinstance(value, dict) and value:
                lines.append((f"{indent}{k}:", note(here)))
                walk(value, here, indent + "  ")
            else:
                lines.append((f"{indent}{k}: {_flow(value)}", note(here)))

    walk(data, (), "")
    width = min(60, max((len(t) for t, _ in lines), default=0)) + 2
    return "".join(f"{t.ljust(max(width, len(t) + 2))}# {c}\n" if c else f"{t}\n" for t, c in lines)
