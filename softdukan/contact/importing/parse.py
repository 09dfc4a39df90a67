"""Reading uploaded contact files: format and encoding detection, headers and a preview, row iteration from a
stored offset, XLSX → CSV conversion. Pure functions (no database); `FileRefused` says why a file can't be read."""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

MAX_BYTES = 20 * 1024 * 1024  # upload limit
MAX_COLUMNS = 200
HEADER_MAX = 200
MAX_ROWS = 1_000_000
MAX_XLSX_ROWS = 300_000  # the conversion runs in one job, which must finish within its lease
PREVIEW_ROWS = 5
FIELD_MAX = 64 * 1024  # csv's own limit is 128 KB; no contact field is near this
DELIMITERS = (",", ";", "\t", "|")
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls

csv.field_size_limit(FIELD_MAX)


class FileRefused(ValueError):
    """Why the whole file can't be imported (one sentence for the person who uploaded it)."""


@dataclass(frozen=True)
class Head:
    headers: list[str]
    preview: list[list[str]]
    delimiter: str
    body_offset: int  # where the first data row starts, in bytes of the text encoded as UTF-8 (as stored)
    total_rows: int


def detect_format(filename: str, data: bytes) -> str:
    if not data.strip():
        raise FileRefused("The file is empty.")
    if data.startswith(_OLE_MAGIC) or filename.lower().endswith(".xls"):
        raise FileRefused("Old Excel files (.xls) can't be read: save it as .xlsx or CSV (UTF-8) and upload again.")
    if data.startswith(_ZIP_MAGIC):
        return "xlsx"
    if filename.lower().endswith(".xlsx"):
        raise FileRefused("This .xlsx file is damaged or not really an Excel file.")
    return "csv"


def decode(data: bytes) -> tuple[str, str]:
    """The text of a CSV and the encoding it was read as: UTF-8 (with or without BOM), else Windows-1252."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FileRefused("This file is UTF-16 text; save it as 'CSV UTF-8' and upload again.")
    if b"\x00" in data:
        raise FileRefused("This is not a text CSV file (it contains binary data).")
    try:
        text, encoding = data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        try:
            text, encoding = data.decode("cp1252"), "cp1252"
        except UnicodeDecodeError:
            raise FileRefused("The file's text encoding is not UTF-8 or Windows-1252; save it as 'CSV UTF-8' "
                              "and upload again.") from None
    sample = text[:200_000]
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\r\n")
    if controls > max(3, len(sample) // 1000):
        raise FileRefused("This is not a text CSV file (it is full of control characters).")
    return text, encoding


def read_csv(data: bytes) -> tuple[bytes, str, Head]:
    """An uploaded CSV checked and read at once: (its text as stored: UTF-8, the encoding it was read as, head)."""
    text, encoding = decode(data)
    return text.encode("utf-8"), encoding, csv_head(text)


def convert_xlsx(data: bytes) -> tuple[bytes, Head]:
    """The first sheet as CSV text (UTF-8, as stored) and its head."""
    text = xlsx_to_csv(data)
    return text.encode("utf-8"), csv_head(text)


def _delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _headers(cells: list[str]) -> list[str]:
    if len(cells) > MAX_COLUMNS:
        raise FileRefused(f"The file has {len(cells)} columns; at most {MAX_COLUMNS} can be imported.")
    if any(len(c) > HEADER_MAX for c in cells):
        raise FileRefused("The first row must hold column names; one of them is longer than "
                          f"{HEADER_MAX} characters (is this really a contact list?).")
    headers = [" ".join(c.split()) or f"Column {i + 1}" for i, c in enumerate(cells)]
    if not any(c.strip() for c in cells):
        raise FileRefused("The first row must hold the column names; it is empty.")
    return headers


def csv_head(text: str) -> Head:
    """Headers, a preview and the row count of a CSV text; FileRefused if it is not one."""
    if not text.strip():
        raise FileRefused("The file is empty.")
    first_line = text.lstrip("\ufeff").split("\n", 1)[0]
    delimiter = _delimiter(first_line)
    buffer = io.StringIO(text, newline="")
    reader = csv.reader(buffer, delimiter=delimiter)
    try:
        header = next(reader, None)
        if header is None:
            raise FileRefused("The file is empty.")
        headers = _headers(header)
        body_offset = len(text[:buffer.tell()].encode("utf-8"))
        preview: list[list[str]] = []
        total = 0
        for row in reader:
            total += 1
            if len(preview) < PREVIEW_ROWS and any(c.strip() for c in row):
                preview.append([c[:100] for c in row[:len(headers)]])
            if total > MAX_ROWS:
                raise FileRefused(f"The file has more than {MAX_ROWS:,} rows; split it into smaller files.")
    except csv.Error as exc:
        raise FileRefused(f"This is not a readable CSV file (row {reader.line_num}: {exc}).") from None
    if total == 0:
        raise FileRefused("The file has column names but no contacts.")
    return Head(headers, preview, delimiter, body_offset, total)


def window_rows(window: bytes, at_end: bool, delimiter: str,
                first_row_number: int) -> Iterator[tuple[int, list[str], int]]:
    """(row number as a spreadsheet shows it, cells, bytes of `window` read up to the end of the row) for each row
    that ends inside `window`, a slice of the stored UTF-8 text starting where a row starts. Unless the slice
    reaches the end of the file (`at_end`), a row running into the slice's end is left for the next slice: it may
    be cut short (the slice may even end inside a character or a quoted field)."""
    text = codecs.getincrementaldecoder("utf-8")().decode(window, final=at_end)
    buffer = io.StringIO(text, newline="")
    number, read_chars, read_bytes = first_row_number, 0, 0
    for row in csv.reader(buffer, delimiter=delimiter):
        end = buffer.tell()
        if end >= len(text) and not at_end:
            return  # ends where the slice ends: maybe not where the row does
        read_bytes += len(text[read_chars:end].encode("utf-8"))
        read_chars = end
        yield number, row, read_bytes
        number += 1


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))  # a phone number typed into Excel is a float: 919812345678.0
    return str(value)


def _open_sheet(data: bytes) -> Any:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        return workbook, workbook.worksheets[0]
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, IndexError, TypeError) as exc:
        raise FileRefused(f"This Excel file can't be read ({type(exc).__name__}); save it again as .xlsx or "
                          "CSV (UTF-8).") from None
    except Exception as exc:  # openpyxl raises its own and lxml's errors for damaged parts
        raise FileRefused(f"This Excel file can't be read ({type(exc).__name__}).") from None


def xlsx_to_csv(data: bytes) -> str:
    """The first sheet as CSV text (comma-separated; blank trailing rows dropped)."""
    workbook, sheet = _open_sheet(data)
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    rows, blank_run = 0, 0
    try:
        for values in sheet.iter_rows(values_only=True):
            cells = [_cell(v) for v in values[:MAX_COLUMNS + 1]]
            if not any(c.strip() for c in cells):
                blank_run += 1 if rows else 0  # leading blank rows are dropped: the header comes first
                continue
            writer.writerows([[]] * blank_run)  # keep row numbers as the sheet shows them
            blank_run = 0
            if any(len(c) > FIELD_MAX for c in cells):
                raise FileRefused(f"Row {rows + 1} has a cell longer than {FIELD_MAX // 1024} KB.")
            writer.writerow(cells)
            rows += 1
            if rows > MAX_XLSX_ROWS + 1:
                raise FileRefused(f"Excel files can hold at most {MAX_XLSX_ROWS:,} contacts; use CSV for more.")
    except FileRefused:
        raise
    except Exception as exc:
        raise FileRefused(f"This Excel file can't be read ({type(exc).__name__}).") from None
    finally:
        workbook.close()
    return out.getvalue()


def xlsx_head(data: bytes) -> Head:
    """Headers and a preview from the first rows only (the job converts the whole sheet); total unknown: -1."""
    workbook, sheet = _open_sheet(data)
    try:
        rows: list[list[str]] = []
        for values in sheet.iter_rows(values_only=True):
            cells = [_cell(v) for v in values]
            if not rows and not any(c.strip() for c in cells):
                continue  # leading blank rows
            rows.append(cells)
            if len(rows) > PREVIEW_ROWS:
                break
    except Exception as exc:
        raise FileRefused(f"This Excel file can't be read ({type(exc).__name__}).") from None
    finally:
        workbook.close()
    if not rows:
        raise FileRefused("The first sheet of this Excel file is empty.")
    while rows[0] and not rows[0][-1].strip():
        rows[0].pop()  # trailing empty header cells
    headers = _headers(rows[0])
    preview = [[c[:100] for c in r[:len(headers)]] for r in rows[1:] if any(c.strip() for c in r)]
    if not preview:
        raise FileRefused("The sheet has column names but no contacts.")
    sheet_rows = -1
    return Head(headers, preview, ",", 0, sheet_rows)
