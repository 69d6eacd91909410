"""Which scenario keys ``calibrate`` may fit, their schema bounds and the ranges searched.

Only keys that no call file observes directly and that shape response times are allowed:
the availability rates and mean durations (``availability.*``), the call handling time
(``demand.call_handling_mean_s``) and the travel speeds (``network.speeds.*``). The force
size, the patrol share and the demand are facts a planner states or fits elsewhere
(``patrolsim fit``): fitting them to response times would hide a real shortage behind a
made-up one, so they are refused.

Every allowed key is positive in the search (a rate of zero has no logarithm), and the search
works on the logarithm of each key between its search range's ends: rates and durations act
multiplicatively on waiting times, so equal steps in log space are equal relative changes.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass

from sim.errors import InputError

#: Default search ranges (low, high) in the key's own unit, clipped to the schema's bounds.
RATE_RANGE_PER_H = (0.02, 3.0)
DURATION_RANGE_S = (60.0, 14_400.0)
HANDLING_RANGE_S = (10.0, 1_800.0)
ROAD_FACTOR_RANGE = (0.3, 2.5)


@dataclass(frozen=True)
class KeySpace:
    """One fitted key: its path, its schema bounds and the range searched (log scale)."""

    key: str
    schema_low: float        # the schema's lower bound (exclusive when ``low_open``)
    schema_high: float
    low: float               # the searched range, inside the schema's bounds
    high: float
    unit: str

    def to_unit(self, value: float) -> float:
        """Key value -> position in [0, 1] (log scale between ``low`` and ``high``)."""
        v = min(max(value, self.low), self.high)
        return (math.log(v) - math.log(self.low)) / (math.log(self.high) - math.log(self.low))

    def from_unit(self, u: float) -> float:
        """Position in [0, 1] -> key value (clipped into the range)."""
        u = min(max(float(u), 0.0), 1.0)
        v = math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        return float(min(max(v, self.low), self.high))     # exp(log(x)) may land a hair outside


def _field_bounds(model, name: str) -> tuple[float, float]:
    """(low, high) of a pydantic field from its ``ge``/``gt``/``le``/``lt`` metadata."""
    lo, hi = 0.0, math.inf
    for m in model.model_fields[name].metadata:
        for attr in ("ge", "gt"):
            if getattr(m, attr, None) is not None:
                lo = float(getattr(m, attr))
        for attr in ("le", "lt"):
            if getattr(m, attr, None) is not None:
                hi = float(getattr(m, attr))
    return lo, hi


def _numeric_fields(model) -> list[str]:
    return [n for n, f in model.model_fields.items() if f.annotation is float]


def allowed_keys() -> dict[str, tuple[float, float, str]]:
    """Key path -> (schema low, schema high, unit) of every key ``--fit`` accepts, from the schema."""
    from sim.scenario import AvailabilitySpec, DemandSpec, Speeds

    out: dict[str, tuple[float, float, str]] = {}
    for name in _numeric_fields(AvailabilitySpec):
        unit = "per unit-hour" if name.endswith("_per_h") else "s" if name.endswith("_s") else ""
        out[f"availability.{name}"] = (*_field_bounds(AvailabilitySpec, name), unit)
    out["demand.call_handling_mean_s"] = (*_field_bounds(DemandSpec, "call_handling_mean_s"), "s")
    for name in _numeric_fields(Speeds):
        out[f"network.speeds.{name}"] = (*_field_bounds(Speeds, name), "km/h" if name.endswith("_kph") else "x road speed")
    return out


def _default_range(key: str) -> tuple[float, float]:
    if key.endswith("_per_h"):
        return RATE_RANGE_PER_H
    if key == "demand.call_handling_mean_s":
        return HANDLING_RANGE_S
    if key.endswith("_s"):
        return DURATION_RANGE_S
    if key.endswith("_kph"):
        return (1.0, 60.0)
    return ROAD_FACTOR_RANGE


def parse_fit(text: str) -> list[str]:
    """The keys of ``--fit KEY[,KEY...]``, each checked against :func:`allowed_keys`."""
    allowed = allowed_keys()
    keys = [k.strip() for k in str(text).split(",") if k.strip()]
    if not keys:
        raise InputError("names no key", key="--fit", fix=f"name one or more of: {', '.join(allowed)}")
    for k in keys:
        if k not in allowed:
            close = difflib.get_close_matches(k, list(allowed), n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            raise InputError(f"'{k}' cannot be calibrated", key="--fit",
                             fix=f"{hint}allowed keys: {', '.join(allowed)}")
    if len(set(keys)) != len(keys):
        raise InputError("names a key twice", key="--fit", fix="name each key once")
    return keys


def parse_ranges(options: list[str], keys: list[str]) -> dict[str, tuple[float, float]]:
    """``--range KEY=LOW:HIGH`` options (each key must be one of ``keys``)."""
    out = {}
    for text in options or []:
        key, sep, rest = text.partition("=")
        key = key.strip()
        lo_s, sep2, hi_s = rest.partition(":")
        if not sep or not sep2:
            raise InputError(f"'{text}' is not KEY=LOW:HIGH", key="--range",
                             fix="write e.g. --range availability.out_of_service_per_h=0.1:2")
        if key not in keys:
            raise InputError(f"'{key}' is not one of the keys in --fit", key="--range",
                             fix=f"give a range for one of: {', '.join(keys)}")
        try:
            lo, hi = float(lo_s), float(hi_s)
        except ValueError:
            raise InputError(f"'{text}': LOW and HIGH must be numbers", key="--range",
                             fix="write e.g. --range availability.out_of_service_per_h=0.1:2") from None
        if not (math.isfinite(lo) and math.isfinite(hi) and 0 < lo < hi):
            raise InputError(f"'{text}': need 0 < LOW < HIGH", key="--range", fix="give a positive, rising range")
        out[key] = (lo, hi)
    return out


def key_spaces(keys: list[str], ranges: dict[str, tuple[float, float]] | None = None) -> list[KeySpace]:
    """The search space of each key: ``ranges`` (from ``--range``) or the default, inside the schema bounds."""
    allowed = allowed_keys()
    out = []
    for k in keys:
        s_lo, s_hi, unit = allowed[k]
        lo, hi = (ranges or {}).get(k) or _default_range(k)
        if (ranges or {}).get(k) and (lo < s_lo or hi > s_hi):
            raise InputError(f"{lo:g}:{hi:g} leaves the schema's bounds of {k} ({s_lo:g} to {s_hi:g})",
                             key="--range", fix="give a range inside the bounds")
        lo, hi = max(lo, s_lo if s_lo > 0 else lo), min(hi, s_hi)
        out.append(KeySpace(key=k, schema_low=s_lo, schema_high=s_hi, low=float(lo), high=float(hi), unit=unit))
    return out
