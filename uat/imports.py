"""Importing a product's library — requirements, and cases with their steps — from CSV or
XLSX files, all or nothing.

Tables (a CSV file each, or sheets of one workbook) are told apart by their header:

- requirements: ``requirement_key, title, acceptance_text, criticality``
- cases, one row per step: ``case_key, title, objective, preconditions, priority,
  status, requirement_keys, step, action, expected``. The case columns are read from a
  case's first row; its other rows may leave them empty. ``requirement_keys`` separates
  keys with ``;`` or ``,``. A case without steps is one row with ``step`` empty.

Everything is checked first and every problem reported with its file, row and column;
one problem and nothing is imported. Rows update the requirement or case with the same
key, so importing again changes nothing; a case whose text or steps changed gets a new
version through ``case_version_record``.
"""

import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction

from .audit import event_record
from .models import Case, CaseStep, Priority, Product, Requirement
from .services import case_version_record
from .spreadsheets import Table, UnreadableFile, read_tables
from .tables import CASES, REQUIREMENTS

REQUIREMENT_COLUMNS = REQUIREMENTS.header
CASE_COLUMNS = CASES.header
CASE_FIELDS = ["title", "objective", "preconditions", "priority", "status"]
KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")


@dataclass(frozen=True)
class Problem:
    source: str
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"{self.source}, row {self.row}" + (
            f", column {self.column}" if self.column else ""
        )
        return f"{where}: {self.message}"


class LibraryImportError(ValidationError):
    """The files had problems; nothing was imported."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        count = len(problems)
        super().__init__(
            f"{count} problem{'s' if count != 1 else ''} found; nothing was imported.",
            code="invalid",
        )


@dataclass
class ImportResult:
    created: dict[str, int] = field(default_factory=lambda: {"requirements": 0, "cases": 0})
    updated: dict[str, int] = field(default_factory=lambda: {"requirements": 0, "cases": 0})
    unchanged: dict[str, int] = field(default_factory=lambda: {"requirements": 0, "cases": 0})

    def as_dict(self) -> dict:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}


@dataclass
class _Case:
    key: str
    row: int
    fields: dict[str, str]
    requirement_keys: list[str]
    steps: list[tuple[int, str, str]] = field(default_factory=list)  # (number, action, expected)


class _Reader:
    """Checks the tables and collects every problem."""

    def __init__(self, product: Product):
        self.product = product
        self.problems: list[Problem] = []
        self.requirements: dict[str, dict] = {}
        self.cases: dict[str, _Case] = {}

    def problem(self, table: Table, row: int, column: str, message: str) -> None:
        self.problems.append(Problem(table.source, row, column, message))

    def check_header(self, table: Table, columns: list[str], required: list[str]) -> bool:
        unknown = [name for name in table.header if name and name not in columns]
        for name in unknown:
            self.problem(table, 1, name, f"Unknown column; the columns are {', '.join(columns)}.")
        missing = [name for name in required if name not in table.header]
        for name in missing:
            self.problem(table, 1, name, "This column is missing.")
        return not unknown and not missing

    def choice(self, table, row, column, value, choices, default) -> str:
        value = (value or default).lower()
        if value not in choices:
            self.problem(table, row, column, f"Choose one of: {', '.join(choices)}.")
        return value

    def text(self, table, row, column, value, limit=None, required=False) -> str:
        if required and not value:
            self.problem(table, row, column, "This cell is required.")
        if limit and len(value) > limit:
            self.problem(table, row, column, f"At most {limit} characters.")
        return value

    def key(self, table, row, column, value) -> str:
        if not value:
            self.problem(table, row, column, "This cell is required.")
        elif not KEY.match(value):
            self.problem(table, row, column, "A key is letters, digits, '.', '_' or '-', up to 40.")
        return value

    def read_requirements(self, table: Table) -> None:
        if not self.check_header(table, REQUIREMENT_COLUMNS, ["requirement_key", "title"]):
            return
        first_row: dict[str, int] = {}
        for row, cells in table.rows:
            key = self.key(table, row, "requirement_key", cells.get("requirement_key", ""))
            if key in first_row:
                self.problem(
                    table, row, "requirement_key", f"{key} is also on row {first_row[key]}."
                )
                continue
            first_row[key] = row
            self.requirements[key] = {
                "title": self.text(table, row, "title", cells.get("title", ""), 300, True),
                "acceptance_text": cells.get("acceptance_text", ""),
                "criticality": self.choice(
                    table, row, "criticality", cells.get("criticality"), Priority.values, "medium"
                ),
            }

    def read_cases(self, table: Table) -> None:
        if not self.check_header(
            table, CASE_COLUMNS, ["case_key", "title", "step", "action", "expected"]
        ):
            return
        for row, cells in table.rows:
            key = self.key(table, row, "case_key", cells.get("case_key", ""))
            case = self.cases.get(key)
            if case is None:
                case = self.cases[key] = self.new_case(table, row, key, cells)
            else:
                self.same_as_first(table, row, case, cells)
            self.read_step(table, row, case, cells)

    def new_case(self, table, row, key, cells) -> _Case:
        fields = {
            "title": self.text(table, row, "title", cells.get("title", ""), 300, True),
            "objective": cells.get("objective", ""),
            "preconditions": cells.get("preconditions", ""),
            "priority": self.choice(
                table, row, "priority", cells.get("priority"), Priority.values, "medium"
            ),
            "status": self.choice(
                table, row, "status", cells.get("status"), Case.Status.values, "draft"
            ),
        }
        keys = [
            k.strip() for k in re.split(r"[;,]", cells.get("requirement_keys", "")) if k.strip()
        ]
        return _Case(key=key, row=row, fields=fields, requirement_keys=keys)

    def same_as_first(self, table, row, case: _Case, cells) -> None:
        for column in (*CASE_FIELDS, "objective"):
            value = cells.get(column, "")
            if value and value.lower() != str(case.fields.get(column, "")).lower():
                self.problem(
                    table, row, column, f"Differs from row {case.row}, the first row of {case.key}."
                )

    def read_step(self, table, row, case: _Case, cells) -> None:
        number, action, expected = (cells.get(c, "") for c in ("step", "action", "expected"))
        if not (number or action or expected):
            return
        if not number.isdigit() or not 1 <= int(number) <= 999:
            self.problem(table, row, "step", "A step number is a whole number from 1 to 999.")
            return
        if any(n == int(number) for n, _, _ in case.steps):
            self.problem(table, row, "step", f"{case.key} already has a step {number}.")
        self.text(table, row, "action", action, required=True)
        self.text(table, row, "expected", expected, required=True)
        case.steps.append((int(number), action, expected))

    def check_references(
        self, existing_requirements: set[str], case_rows: dict[str, Table]
    ) -> None:
        known = existing_requirements | set(self.requirements)
        for case in self.cases.values():
            table = case_rows[case.key]
            for key in case.requirement_keys:
                if key not in known:
                    self.problem(
                        table,
                        case.row,
                        "requirement_keys",
                        f"No requirement {key} in {self.product}.",
                    )
            if case.fields["status"] == Case.Status.READY and not case.steps:
                self.problem(table, case.row, "step", "A ready case needs at least one step.")


# The largest file an import reads, however it arrives (admin, API, command): a bigger
# spreadsheet is more likely a mistake or a zip bomb than a case library.
IMPORT_MAX_BYTES = 5 * 1024 * 1024


def _read(product: Product, files: list[tuple[str, bytes]]) -> _Reader:
    reader = _Reader(product)
    case_tables: dict[str, Table] = {}
    for name, data in files:
        if len(data) > IMPORT_MAX_BYTES:
            megabytes = IMPORT_MAX_BYTES // (1024 * 1024)
            reader.problems.append(Problem(name, 0, "", f"The file is larger than {megabytes} MB."))
            continue
        try:
            tables = read_tables(name, data)
        except UnreadableFile as error:
            reader.problems.append(Problem(name, 0, "", str(error)))
            continue
        if not tables:
            reader.problems.append(Problem(name, 1, "", "The file has no table."))
        for table in tables:
            if "requirement_key" in table.header:
                reader.read_requirements(table)
            elif "case_key" in table.header:
                before = set(reader.cases)
                reader.read_cases(table)
                case_tables.update(dict.fromkeys(set(reader.cases) - before, table))
            else:
                reader.problems.append(
                    Problem(table.source, 1, "", "Start with a requirement_key or case_key column.")
                )
    existing = set(product.requirements.values_list("key", flat=True))
    reader.check_references(existing, case_tables)
    return reader


def library_check(*, product: Product, files: list[tuple[str, bytes]]) -> list[Problem]:
    """Every problem ``library_import`` would report for these files; imports nothing."""
    return _read(product, files).problems


@transaction.atomic
def library_import(*, product: Product, files: list[tuple[str, bytes]], actor) -> ImportResult:
    """Import requirements and cases from (name, content) files into ``product``; raise
    ``LibraryImportError`` listing every problem, having imported nothing."""
    reader = _read(product, files)
    if reader.problems:
        raise LibraryImportError(reader.problems)
    result = ImportResult()
    requirements = {r.key: r for r in product.requirements.all()}
    for key, values in reader.requirements.items():
        requirements[key] = _save(
            Requirement, requirements.get(key), product, key, values, actor, result, "requirements"
        )
    cases = {c.key: c for c in product.cases.prefetch_related("steps", "requirements")}
    for key, row in reader.cases.items():
        case = cases.get(key)
        created = case is None
        case = _save(Case, case, product, key, row.fields, actor, result, "cases")
        wanted = {requirements[k].pk for k in row.requirement_keys}
        had = set() if created else {r.pk for r in case.requirements.all()}
        if wanted != had:
            case.requirements.set(wanted)
            if not created:
                _count_update(result, "cases", case)
                event_record(
                    actor=actor,
                    verb="case.changed",
                    obj=case,
                    before={"requirements": sorted(had)},
                    after={"requirements": sorted(wanted)},
                )
        steps = [(action, expected) for _, action, expected in sorted(row.steps)]
        if case_steps_set(case=case, steps=steps) and not created:
            _count_update(result, "cases", case)
        case_version_record(case=case, actor=actor)
    event_record(actor=actor, verb="product.library_imported", obj=product, after=result.as_dict())
    return result


def _count_update(result: ImportResult, kind: str, obj) -> None:
    # A row counts once, as updated, whatever changed in it.
    marked = getattr(obj, "_import_counted", False)
    if not marked:
        result.updated[kind] += 1
        result.unchanged[kind] -= 1
        obj._import_counted = True


def _save(model, obj, product, key, values, actor, result, kind):
    name = model._meta.model_name
    if obj is None:
        obj = model.objects.create(product=product, key=key, **values)
        result.created[kind] += 1
        event_record(actor=actor, verb=f"{name}.created", obj=obj, after={"key": key, **values})
        obj._import_counted = True
        return obj
    changed = {f: v for f, v in values.items() if getattr(obj, f) != v}
    result.unchanged[kind] += 1
    if changed:
        before = {f: getattr(obj, f) for f in changed}
        for f, v in changed.items():
            setattr(obj, f, v)
        obj.save(update_fields=[*changed, *(["updated_at"] if name == "case" else [])])
        event_record(actor=actor, verb=f"{name}.changed", obj=obj, before=before, after=changed)
        _count_update(result, kind, obj)
    return obj


def case_steps_set(*, case: Case, steps: list[tuple[str, str]]) -> bool:
    """Make the case's steps exactly ``steps`` (action, expected) in order, numbered from
    1; return whether anything changed. Call ``case_version_record`` afterwards."""
    current = [(s.action, s.expected) for s in sorted(case.steps.all(), key=lambda s: s.position)]
    if current == list(steps):
        return False
    case.steps.all().delete()
    CaseStep.objects.bulk_create(
        CaseStep(case=case, position=n, action=action, expected=expected)
        for n, (action, expected) in enumerate(steps, start=1)
    )
    if hasattr(case, "_prefetched_objects_cache"):
        case._prefetched_objects_cache.pop("steps", None)
    return True
