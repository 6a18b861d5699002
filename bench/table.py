"""The benchmark table: one row per figure, with the baseline it is measured against in the
same run, the ratio, the target and whether it was met."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional


@dataclass
class Row:
    name: str
    value: float
    unit: str
    baseline: Optional[float] = None  # the same figure for the baseline, same run
    baseline_name: str = ""
    target: str = ""
    ok: Optional[bool] = None  # None: no target
    note: str = ""

    @property
    def ratio(self) -> Optional[float]:
        if self.baseline in (None, 0) or self.value is None:
            return None
        return self.value / self.baseline


def _num(value: Optional[float], unit: str) -> str:
    if value is None:
        return "—"
    digits = 0 if abs(value) >= 100 else 1 if abs(value) >= 10 else 2
    return f"{value:,.{digits}f} {unit}".strip()


def _verdict(row: Row) -> str:
    return "" if row.ok is None else ("met" if row.ok else "**missed**")


def markdown(rows: list[Row]) -> str:
    lines = ["| figure | measured | baseline (same run) | ratio | target | |",
             "|---|---:|---|---:|---|---|"]
    for row in rows:
        baseline = f"{row.baseline_name} {_num(row.baseline, row.unit)}".strip() if row.baseline is not None else ""
        ratio = f"{row.ratio:.2f}×" if row.ratio is not None else ""
        lines.append(f"| {row.name} | {_num(row.value, row.unit)} | {baseline} | {ratio} | {row.target} "
                     f"| {_verdict(row)} |")
    notes = [f"- {row.name}: {row.note}" for row in rows if row.note]
    return "\n".join(lines + ([""] + notes if notes else []))
