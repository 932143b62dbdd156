"""Reading the tables of an import, as CSV or XLSX; the file types of both directions.

A text cell a spreadsheet would run as a formula (``=…``, ``+…``, ``-…``, ``@…``) is
written with a leading apostrophe (``uat.tables``), and reading takes that apostrophe off
again, so an exported table imports back unchanged."""

import csv
import io
from dataclasses import dataclass, field

from openpyxl import load_workbook

from .tables import FORMULA_TRIGGERS

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv"
FORMATS = {"csv": CSV_TYPE, "xlsx": XLSX_TYPE}


class UnreadableFile(ValueError):
    pass


@dataclass
class Table:
    source: str  # the file name, or "file.xlsx, sheet Cases"
    header: list[str]
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)  # (row number, cells)
    sheet: str = ""


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    if text.startswith("'") and text[1:2] and text[1] in FORMULA_TRIGGERS:
        return text[1:]
    return text


def _table(source: str, rows, sheet: str = "") -> Table | None:
    rows = iter(rows)
    for header_cells in rows:
        header = [_text(cell).lower() for cell in header_cells]
        if any(header):
            break
    else:
        return None
    table = Table(source=source, header=header, sheet=sheet)
    for number, cells in enumerate(rows, start=2):
        values = [_text(cell) for cell in cells]
        if not any(values):
            continue
        table.rows.append((number, dict(zip(header, values, strict=False))))
    return table


def read_tables(name: str, data: bytes) -> list[Table]:
    """Every table in an uploaded CSV or XLSX file."""
    if name.lower().endswith(".xlsx") or data[:2] == b"PK":
        # Any broken workbook (not a zip, missing parts, bad XML) is the same to a user.
        try:
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            tables = [
                _table(f"{name}, sheet {s.title}", s.iter_rows(values_only=True), s.title)
                for s in workbook.worksheets
            ]
            workbook.close()
        except Exception as error:
            raise UnreadableFile(f"{name} is not a readable XLSX workbook.") from error
        return [table for table in tables if table]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UnreadableFile(f"{name} is not UTF-8 text; save the CSV as UTF-8.") from error
    try:
        table = _table(name, csv.reader(io.StringIO(text)))
    except csv.Error as error:
        raise UnreadableFile(f"{name} is not a readable CSV file: {error}.") from error
    return [table] if table else []
