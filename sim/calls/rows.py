"""Counting the rows of a call file that could not be used, with examples.

Real call exports are messy: blank timestamps, coordinates of 0,0, rows far
outside the road network. Nothing is dropped silently: every row left out is
counted under a reason, with a few example rows (file line numbers and values)
so the user can find and fix them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

MAX_EXAMPLES = 3


@dataclass
class RowReport:
    """Rows read, rows used, and rows left out by reason (with example lines).

    Line numbers are those of the file: the header is line 1, so the first data
    row is line 2 (a field with an embedded newline shifts later numbers).
    """

    file: str
    rows_read: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def drop(self, reason: str, lines: np.ndarray, values=None) -> None:
        """Record rows (by file line number) left out for ``reason``; ``values`` explain each."""
        lines = np.asarray(lines)
        if lines.size == 0:
            return
        self.dropped[reason] = self.dropped.get(reason, 0) + int(lines.size)
        ex = self.examples.setdefault(reason, [])
        for i in range(min(MAX_EXAMPLES - len(ex), lines.size)):
            v = "" if values is None else f": {list(values)[i]}"
            ex.append(f"line {int(lines[i])}{v}")

    def note(self, text: str) -> None:
        self.notes.append(text)

    @property
    def rows_dropped(self) -> int:
        return int(sum(self.dropped.values()))

    @property
    def rows_used(self) -> int:
        return self.rows_read - self.rows_dropped

    def to_dict(self) -> dict:
        return {"file": self.file, "rows_read": self.rows_read, "rows_used": self.rows_used,
                "rows_dropped": self.rows_dropped, "dropped_by_reason": dict(self.dropped),
                "examples": {k: list(v) for k, v in self.examples.items()}, "notes": list(self.notes)}

    def lines(self) -> list[str]:
        """Human-readable summary, one line per reason."""
        out = [f"{self.file}: {self.rows_read} rows read, {self.rows_used} used, {self.rows_dropped} left out"]
        for reason, n in self.dropped.items():
            ex = "; ".join(self.examples.get(reason, []))
            out.append(f"  {n} {reason}" + (f" (e.g. {ex})" if ex else ""))
        out.extend(f"  note: {t}" for t in self.notes)
        return out
