"""Scenario key paths: ``force.total_officers``, ``demand.types[2].share``, ``network.osm.stations[0].lat``.

One parser and one getter/setter for every place a key path is written by a user: ``--set``
on the command line, the keys of a sweep file (``set``, ``grid``, ``points``, ``sample``) and
``hold --vary``. A path is a list of parts: a ``str`` names a key of a mapping, an ``int``
an item of a list (counted from 0). Errors are one-line ``ScenarioError`` s naming the key
path; the caller adds the file. Plain Python only (no yaml), so the core may import it.
"""

from __future__ import annotations

import re
from typing import Callable

from sim.errors import ScenarioError

_SEGMENT = re.compile(r"^([A-Za-z0-9_\-]+)((?:\[[^\]]*\])*)$")
_INDEX = re.compile(r"\[([^\]]*)\]")

def parse_key(key: str) -> list:
    """'demand.types[2].share' -> ['demand', 'types', 2, 'share'].

    Names are letters, digits, '_' and '-'; an index is a whole number 0 or more in brackets
    right after a name (``stations[0]``, ``matrix[1][2]``).
    """
    text = key.strip()
    if not text:
        raise ScenarioError("empty key path", key=key, fix="write e.g. force.total_officers")
    parts: list = []
    for seg in text.split("."):
        m = _SEGMENT.match(seg)
        if not seg or m is None:
            bad = "an empty part (two dots, or a dot at an end)" if not seg else f"'{seg}'"
            raise ScenarioError(f"is not a key path: {bad}", key=text,
                                fix="write names joined by dots, with [i] for a list item, "
                                    "e.g. demand.types[2].share")
        parts.append(m.group(1))
        for raw in _INDEX.findall(m.group(2)):
            if not raw.strip().isdigit():
                raise ScenarioError(f"list index [{raw}] is not a whole number 0 or more", key=text,
                                    fix="count list items from 0, e.g. network.osm.stations[0].lat")
            parts.append(int(raw))
    return parts


def format_key(parts) -> str:
    """['demand', 'types', 2, 'share'] -> 'demand.types[2].share' (the inverse of parse_key)."""
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else ("." if out else "") + str(p)
    return out


def _kind(value) -> str:
    if isinstance(value, dict):
        return "a section"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "empty (null)"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    return "a text value"


def _index_error(parts, i: int, size: int) -> ScenarioError:
    where = format_key(parts[:i + 1])
    if size == 0:
        return ScenarioError("index out of range (the list is empty)", key=where,
                             fix=f"give the whole list, e.g. --set {format_key(parts[:i])}='[{{...}}]'")
    return ScenarioError(f"index out of range (the list has {size} item{'s' if size != 1 else ''})", key=where,
                         fix=f"use an index from 0 to {size - 1}")


def _step(node, parts, i: int, *, missing: Callable | None, create: bool):
    """The child of ``node`` for ``parts[i]``; sections are created when ``create`` is true."""
    part = parts[i]
    if isinstance(part, int):
        if not isinstance(node, list):
            raise ScenarioError(f"is {_kind(node)}, not a list, so it has no item [{part}]",
                                key=format_key(parts[:i]), fix="drop the [index], or check docs/scenarios.md")
        if part >= len(node):
            raise _index_error(parts, i, len(node))
        return node[part]
    if not isinstance(node, dict):
        raise ScenarioError(f"'{format_key(parts[:i])}' is {_kind(node)}, not a section, so this key cannot be set",
                            key=format_key(parts), fix="set a key inside a section (see docs/scenarios.md)")
    if part not in node or node[part] is None:
        nxt_is_index = i + 1 < len(parts) and isinstance(parts[i + 1], int)
        filled = missing(parts[:i + 1]) if (missing is not None and nxt_is_index) else None
        if filled is not None:
            node[part] = filled
        elif nxt_is_index:
            raise ScenarioError("is not a list in this scenario", key=format_key(parts[:i + 1]),
                                fix="check the key path in docs/scenarios.md")
        elif create:
            node[part] = {}
        else:
            raise KeyError(format_key(parts))
    return node[part]


def get_key(data, parts):
    """The value at ``parts`` (a parsed key path). KeyError when a key is absent; a ScenarioError
    naming the index and the list's length when an index is out of range."""
    node = data
    for i in range(len(parts)):
        node = _step(node, parts, i, missing=None, create=False)
    return node


def set_key(data, parts, value, *, missing: Callable | None = None) -> None:
    """Put ``value`` at ``parts`` inside ``data`` (changed in place). Missing sections are created;
    a list that is not in ``data`` is asked of ``missing(prefix_parts)`` (e.g. the scenario's
    default list of incident types), else it is an error. Only existing list items can be set."""
    if not parts:
        raise ScenarioError("empty key path", fix="write e.g. force.total_officers")
    node = data
    for i in range(len(parts) - 1):
        node = _step(node, parts, i, missing=missing, create=True)
    last = parts[-1]
    if isinstance(last, int):
        if not isinstance(node, list):
            raise ScenarioError(f"is {_kind(node)}, not a list, so it has no item [{last}]",
                                key=format_key(parts[:-1]), fix="drop the [index], or check docs/scenarios.md")
        if last >= len(node):
            raise _index_error(parts, len(parts) - 1, len(node))
        node[last] = value
        return
    if not isinstance(node, dict):
        raise ScenarioError(f"'{format_key(parts[:-1])}' is {_kind(node)}, not a section, so this key cannot be set",
                            key=format_key(parts), fix="set a key inside a section (see docs/scenarios.md)")
    node[last] = value
