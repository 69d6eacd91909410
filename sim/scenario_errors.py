"""Wording pydantic's validation report as one error line: file, key path, what is wrong, the fix.

``sim.scenario`` validates; this module only words the first problem pydantic found (and
counts the rest), so every scenario-like file (a scenario, an analytic problem) reports
its mistakes the same way: ``demand.types[0].share`` for a key path, the closest valid
key for a typo, the allowed range or "give a finite number" as the fix.
"""

from __future__ import annotations

import difflib

from pydantic import BaseModel, ValidationError

from sim.errors import ScenarioError


def _fields_at(model: type[BaseModel], loc: tuple) -> list[str]:
    """Valid keys at the place an unknown key was found, to suggest a fix."""
    cls = model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = cls.model_fields.get(str(part))
        if field is None:
            return []
        ann = field.annotation
        candidates = [a for a in getattr(ann, "__args__", (ann,)) if isinstance(a, type)]
        inner = [a for a in candidates if issubclass(a, BaseModel)]
        if not inner:
            args = [a for c in getattr(ann, "__args__", ()) for a in getattr(c, "__args__", (c,))]
            inner = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
        if not inner:
            return []
        cls = inner[0]
    return list(cls.model_fields)


def key_path(loc: tuple) -> str:
    """pydantic's error location as a scenario key path: ('demand', 'types', 0, 'share') -> demand.types[0].share"""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def validation_to_error(exc: ValidationError, *, file: str | None, model: type[BaseModel]) -> ScenarioError:
    """Turn pydantic's report into one line: file, key path, what is wrong, the fix.

    ``model`` is the model that was validated (``sim.scenario.Scenario`` for a scenario): an
    unknown key is answered with the closest valid key at its place in that model.
    """
    errors = exc.errors()
    err = errors[0]
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p and p.endswith("]")))
    key = key_path(loc) or "(top level)"
    kind = err["type"]
    more = f" ({len(errors) - 1} more problem(s) after this one)" if len(errors) > 1 else ""
    if kind == "extra_forbidden":
        valid = [k for k in _fields_at(model, loc) if k != "source_file"]
        close = difflib.get_close_matches(str(loc[-1]), valid, n=1)
        fix = f"did you mean '{close[0]}'?" if close else (
            f"valid keys here: {', '.join(valid)}" if valid else "remove it")
        return ScenarioError(f"unknown key{more}", file=file, key=key, fix=fix)
    msg = err["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    got = err.get("input")
    shown = repr(got)
    if len(shown) > 60:   # a one-line error: a huge value is shown by its start and length
        shown = f"{shown[:40]}... ({len(str(got)):,} characters)"
    got_text = "" if isinstance(got, (dict, list)) or got is None else f" (got {shown})"
    fix = "see docs/scenarios.md for this key"
    if kind == "finite_number":
        fix = "give a finite number (.inf and .nan are not allowed)"
    elif kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        fix = "use a value in the range docs/scenarios.md gives for this key"
    elif kind == "string_type" and isinstance(got, (bool, int, float)):
        fix = "put the value in quotes (YAML reads words like off, yes and no as true/false)"
    elif kind == "missing":
        fix = "add this key"
    elif kind == "literal_error":
        fix = "use one of the values listed"
    return ScenarioError(f"{msg}{got_text}{more}", file=file, key=key, fix=fix)
