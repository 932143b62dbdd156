"""What changed between two versions of a case: its text fields, and its steps added,
removed, moved or changed. Steps are matched by their action, so a step whose expected
result was reworded shows as changed, not as one removed and another added."""

from dataclasses import dataclass
from difflib import SequenceMatcher

from .models import CaseVersion

FIELDS = (
    ("title", "Title"),
    ("objective", "Objective"),
    ("preconditions", "Preconditions"),
    ("priority", "Priority"),
)
STEP_FIELDS = {"action": "action", "expected": "expected result"}


@dataclass(frozen=True)
class FieldChange:
    label: str
    before: str
    after: str


@dataclass(frozen=True)
class StepChange:
    kind: str  # added, removed, moved, changed, unchanged
    before_number: int | None
    after_number: int | None
    before: dict | None
    after: dict | None
    changed: tuple[str, ...] = ()  # the labels of the step's fields that differ

    @property
    def description(self) -> str:
        """The change in words (the page never says it with colour alone)."""
        if self.kind == "added":
            return f"Added as step {self.after_number}"
        if self.kind == "removed":
            return f"Removed (was step {self.before_number})"
        moved = (
            f"step {self.before_number} is now step {self.after_number}"
            if self.before_number != self.after_number
            else ""
        )
        if self.kind == "changed":
            what = f"{' and '.join(self.changed)} changed".capitalize()
            return f"{what}; {moved}" if moved else what
        if self.kind == "moved":
            return f"Moved: {moved}"
        return f"Unchanged; {moved}" if moved else "Unchanged"


@dataclass(frozen=True)
class CaseDiff:
    older: CaseVersion
    newer: CaseVersion
    fields: list[FieldChange]
    steps: list[StepChange]

    def count(self, kind: str) -> int:
        return sum(1 for step in self.steps if step.kind == kind)

    @property
    def summary(self) -> str:
        parts = [f"{len(self.fields)} field{'s' if len(self.fields) != 1 else ''} changed"]
        for kind in ("added", "removed", "moved", "changed"):
            if self.count(kind):
                parts.append(
                    f"{self.count(kind)} step{'s' if self.count(kind) != 1 else ''} {kind}"
                )
        return ", ".join(parts) + "."


def _value(version: CaseVersion, name: str) -> str:
    if name == "priority":
        return version.get_priority_display()
    return getattr(version, name)


def _pair(before: int, after: int, old: list[dict], new: list[dict]) -> StepChange:
    changed = tuple(
        label for key, label in STEP_FIELDS.items() if old[before][key] != new[after][key]
    )
    return StepChange(
        "changed" if changed else "unchanged",
        before + 1,
        after + 1,
        old[before],
        new[after],
        changed,
    )


def _alike(one: dict, other: dict) -> bool:
    """Whether a step replaced by another is that step edited rather than a new one:
    the same expected result, or an action reworded rather than rewritten."""
    if one["expected"] == other["expected"]:
        return True
    return SequenceMatcher(a=one["action"], b=other["action"], autojunk=False).ratio() >= 0.6


def case_versions_diff(older: CaseVersion, newer: CaseVersion) -> CaseDiff:
    """The changes from ``older`` to ``newer`` (two versions of one case)."""
    fields = [
        FieldChange(label, _value(older, name), _value(newer, name))
        for name, label in FIELDS
        if _value(older, name) != _value(newer, name)
    ]
    old, new = list(older.steps), list(newer.steps)
    matcher = SequenceMatcher(
        a=[step["action"] for step in old], b=[step["action"] for step in new], autojunk=False
    )
    steps: list[StepChange] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        paired = min(i2 - i1, j2 - j1) if tag in ("equal", "replace") else 0
        if tag == "replace":
            paired = next(
                (k for k in range(paired) if not _alike(old[i1 + k], new[j1 + k])), paired
            )
        steps += [_pair(i1 + k, j1 + k, old, new) for k in range(paired)]
        steps += [StepChange("removed", i + 1, None, old[i], None) for i in range(i1 + paired, i2)]
        steps += [StepChange("added", None, j + 1, None, new[j]) for j in range(j1 + paired, j2)]
    return CaseDiff(older, newer, fields, _moves(steps))


def _moves(steps: list[StepChange]) -> list[StepChange]:
    """A step removed in one place and added, word for word, in another was moved: it
    shows once, where it is now."""

    def text(step: dict) -> tuple[str, str]:
        return step["action"], step["expected"]

    removed: dict[tuple[str, str], StepChange] = {}
    for change in steps:
        if change.kind == "removed":
            removed.setdefault(text(change.before), change)
    moved_from, result = set(), []
    for change in steps:
        twin = removed.pop(text(change.after), None) if change.kind == "added" else None
        if twin is None:
            result.append(change)
            continue
        moved_from.add(id(twin))
        result.append(
            StepChange("moved", twin.before_number, change.after_number, twin.before, change.after)
        )
    return [change for change in result if id(change) not in moved_from]
