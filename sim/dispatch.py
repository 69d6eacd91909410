"""Dispatch decisions as pure functions, testable without SimPy.

The engine gathers the available units with their estimated arrival times and
asks ``select_unit`` which one goes. Rules (which kinds may answer which calls)
and the policy (nearest anywhere, or own beat first) are data. Ties are broken
by unit id so runs are reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple, Sequence

from sim.kinds import KIND_NAMES, UNIT_KINDS, Role

_CHECKPOINT, _RESERVE = Role.CHECKPOINT, Role.RESERVE   # module names: eligible() runs per candidate


class Candidate(NamedTuple):
    """A unit that could be sent, with its estimated arrival (a tuple: made at every dispatch)."""

    uid: int
    kind: str            # a unit kind of the registry (sim.kinds)
    role: str            # a ``sim.kinds.Role`` (patrol | standby | checkpoint | reserve)
    eta_s: float
    owns_place: bool = False     # the incident lies in the unit's own beat
    neighbour: bool = False      # the incident lies in a beat next to the unit's


@dataclass(frozen=True)
class DispatchRules:
    """Which units may answer which requests, and how one is chosen.

    The per-kind rules are keyed by kind name, so a kind added to the registry
    (``sim.kinds``) with a ``max_travel`` or ``own_beat_only`` rule needs no change here.
    """

    policy: str = "nearest"                  # nearest | own_beat_first
    max_travel_s: dict = field(default_factory=dict)   # kind -> answers farther calls only in its own beat
    own_beat_only: frozenset = frozenset()   # kinds that answer only calls in their own beat
    backup_kinds: frozenset = frozenset(KIND_NAMES)
    reserve_for: frozenset = frozenset()     # {"major", "beyond_line"}
    lost_when_all_busy: bool = False         # a loss system: requests no unit can take are dropped
    # priority -> units kept free for higher priorities: such a call is sent only while more are free
    keep_free: dict = field(default_factory=dict)

    @classmethod
    def from_spec(cls, spec) -> "DispatchRules":
        """The rules of a scenario's ``dispatch`` section (its per-kind keys come from the registry)."""
        limits = {k.name: getattr(spec, f"{k.name}_max_travel_s") for k in UNIT_KINDS if k.max_travel}
        own = {k.name for k in UNIT_KINDS if k.own_beat_only_doc and getattr(spec, f"{k.name}_own_beat_only")}
        return cls(policy=spec.policy, max_travel_s={k: v for k, v in limits.items() if v is not None},
                   own_beat_only=frozenset(own),
                   backup_kinds=frozenset(spec.backup_kinds), reserve_for=frozenset(spec.reserve_for),
                   lost_when_all_busy=getattr(spec, "when_all_busy", "queue") == "lost",
                   keep_free=dict(getattr(spec, "keep_free_for_priority", None) or {}))


@dataclass(frozen=True)
class SearchNeeds:
    """What the dispatch search must locate for ``select_unit`` to choose as over every unit.

    The engine's search (``sim.engine.search``) visits units in order of a lower bound
    on their arrival and stops once no further unit can beat the best eligible one. The
    rules say what else it must do: which units to locate whatever their bound, which
    kinds' eligibility depends on their beat, and whether the best (arrival, unit id)
    is all the policy reads.
    """

    best_only: bool              # the choice is the eligible unit with the smallest (arrival, id)
    owners: bool                 # beat owners and neighbours are located whatever their bound
    reserve: bool                # the reserve is located whatever its bound
    ruled_kinds: frozenset       # kinds whose eligibility reads their arrival or their beat
    backup_kinds: frozenset      # kinds that may back up (others are checked with ``eligible``)


def search_needs(rules: DispatchRules, *, has_reserve: bool) -> SearchNeeds:
    """What the search must locate under ``rules`` (``has_reserve``: the force has a mobile reserve).

    Nearest-unit dispatch without a reserve picks the eligible unit with the smallest
    (arrival, unit id): the search need not build a list of candidates at all.
    """
    ruled = set(rules.max_travel_s) | set(rules.own_beat_only)
    return SearchNeeds(best_only=rules.policy == "nearest" and not has_reserve,
                       owners=rules.policy == "own_beat_first", reserve=has_reserve,
                       ruled_kinds=frozenset(ruled), backup_kinds=frozenset(rules.backup_kinds))


def choose_nearest(eta_s: Sequence[float], unit_id: Sequence[int]) -> int:
    """Index of the unit with the smallest estimated arrival time (ties: smallest id).

    Plain Python: it runs at every dispatch over a handful of units, too few for arrays to pay.
    """
    if len(eta_s) == 0:
        raise ValueError("no unit to choose from")
    return min(range(len(eta_s)), key=lambda k: (eta_s[k], unit_id[k]))


def eligible(c: Candidate, *, rules: DispatchRules, is_backup: bool) -> bool:
    """May this unit answer this request at all?"""
    if c.role == _CHECKPOINT:
        return False
    if is_backup and c.role != _RESERVE and c.kind not in rules.backup_kinds:
        return False
    if c.owns_place:
        return True
    if c.kind in rules.own_beat_only:
        return False
    limit = rules.max_travel_s.get(c.kind)
    return limit is None or c.eta_s <= limit


def _nearest(cands: list[Candidate]) -> Candidate | None:
    if not cands:
        return None
    return cands[choose_nearest([c.eta_s for c in cands], [c.uid for c in cands])]


def _by_policy(cands: list[Candidate], policy: str) -> Candidate | None:
    if policy == "own_beat_first":
        for tier in ([c for c in cands if c.owns_place], [c for c in cands if c.neighbour], cands):
            if tier:
                return _nearest(tier)
        return None
    return _nearest(cands)


def select_unit(cands: list[Candidate], *, rules: DispatchRules, is_backup: bool = False,
                major: bool = False, time_left_s: float = float("inf")) -> Candidate | None:
    """The unit to send, or None when no eligible unit is free.

    The mobile reserve answers major incidents like any unit when ``"major"`` is in
    ``rules.reserve_for``; otherwise it answers only when no patrol unit can arrive
    within ``time_left_s`` (what remains of the response line) and it can do better.
    """
    ok = [c for c in cands if eligible(c, rules=rules, is_backup=is_backup)]
    regular = [c for c in ok if c.role != Role.RESERVE]
    reserve = [c for c in ok if c.role == Role.RESERVE]
    if reserve and major and "major" in rules.reserve_for:
        return _by_policy(regular + reserve, rules.policy)
    best = _by_policy(regular, rules.policy)
    if reserve and "beyond_line" in rules.reserve_for and (best is None or best.eta_s > time_left_s):
        r = _nearest(reserve)
        if best is None or r.eta_s < best.eta_s:
            return r
    return best


def may_interrupt(priority: int, work: str, interrupt: dict) -> bool:
    """May a request of ``priority`` pull a unit off ``work`` (``interrupt``: work kind -> priorities)?

    Only asked when no free unit can take the request: e.g. priority 1 may pull a unit off
    officer-initiated work but not out of a meal or a report (``sim.engine.availability``).
    """
    return priority in interrupt.get(work, ())
