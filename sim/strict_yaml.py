"""Strict YAML for every input file: no duplicate keys, no anchors or aliases, bounded size and depth.

Plain ``yaml.safe_load`` lets the last of two equal keys win (a second ``force:`` section
silently replaces the first), expands aliases (an "alias bomb" of a few hundred bytes grows
to gigabytes) and recurses once per nesting level (5,000 ``[`` end in RecursionError). A
scenario, sweep, hypercube or fitted-demand file needs none of these, so each is an
``InputError`` with the file and the line here, before anything is built from the data.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from sim.errors import InputError, ScenarioError

#: Largest input file read, in bytes (a scenario is a few kB; a fitted-demand file a few hundred kB).
MAX_FILE_BYTES = 20 * 1024 * 1024
#: Deepest nesting of lists and mappings (a scenario needs 4 or 5).
MAX_DEPTH = 50


class StrictYamlProblem(Exception):
    """A strict-YAML rule broken at a line (converted to the caller's InputError)."""

    def __init__(self, problem: str, line: int | None, fix: str) -> None:
        super().__init__(problem)
        self.problem, self.line, self.fix = problem, line, fix


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses anchors, aliases, duplicate keys and deep nesting."""

    def __init__(self, stream) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):
        event = self.peek_event()
        line = event.start_mark.line + 1 if event.start_mark else None
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise StrictYamlProblem("YAML anchors and aliases (& and *) are not allowed", line,
                                    "write the values out in full")
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise StrictYamlProblem(f"nested deeper than {MAX_DEPTH} levels", line,
                                    "check the brackets and indentation near that line")
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: dict = {}
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=True)
                try:
                    hash(key)
                except TypeError:
                    continue  # SafeLoader reports an unhashable key itself
                line = key_node.start_mark.line + 1
                if key in seen:
                    raise StrictYamlProblem(f"duplicate key '{key}' (first at line {seen[key]})", line,
                                            "keep one of them: YAML would silently use the last")
                seen[key] = line
        return super().construct_mapping(node, deep=deep)


def loads(text: str, *, file: str | None, error: type[InputError] = ScenarioError, fix: str | None = None):
    """Parse YAML text strictly; any problem is one ``error`` line with the file and the line."""
    loader = None
    try:
        loader = _StrictLoader(text)      # the reader already refuses control characters here
        return loader.get_single_data()
    except StrictYamlProblem as exc:
        where = f"line {exc.line}: " if exc.line else ""
        raise error(f"{where}{exc.problem}", file=file, fix=exc.fix) from None
    except yaml.reader.ReaderError as exc:
        raise error(f"character #x{exc.character:04x} at position {exc.position} is not allowed in YAML",
                    file=file, fix="save the file as plain UTF-8 text without control characters") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise error(f"YAML syntax error at {where}{problem}", file=file,
                    fix=fix or "check indentation and quoting near that line") from None
    except RecursionError:  # a construct nested past Python's stack despite the depth limit
        raise error(f"nested deeper than {MAX_DEPTH} levels", file=file,
                    fix="check the brackets and indentation") from None
    finally:
        if loader is not None:
            loader.dispose()


def read_text(path: Path, *, error: type[InputError] = ScenarioError, what: str = "YAML",
              max_bytes: int | None = None) -> str:
    """A YAML file's text, refusing files too large to be an input and text that is not UTF-8."""
    size = path.stat().st_size
    max_bytes = MAX_FILE_BYTES if max_bytes is None else max_bytes
    if size > max_bytes:
        raise error(f"is {size / 1e6:.3g} MB, larger than the {max_bytes / 1e6:.3g} MB a {what} file may be",
                    file=str(path), fix=f"check that this is the {what} file you meant")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise error("is not UTF-8 text", file=str(path), fix="save it as UTF-8 YAML") from None
