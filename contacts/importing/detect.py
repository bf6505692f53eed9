"""What an uploaded file is: its text encoding, CSV dialect and export format."""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field

# The known exports, recognized by columns only they have.
LINKEDIN = "linkedin"
GOOGLE = "google"
OUTLOOK = "outlook"
GENERIC = "csv"
VCARD = "vcard"
FORMAT_LABELS = {
    LINKEDIN: "LinkedIn connections",
    GOOGLE: "Google Contacts",
    OUTLOOK: "Outlook",
    GENERIC: "CSV",
    VCARD: "vCard",
}

_LINKEDIN_COLUMNS = {"first name", "last name", "url", "email address", "company", "position", "connected on"}
_OUTLOOK_COLUMNS = {"first name", "last name", "e-mail address", "business phone", "job title", "company"}
# Google's 2024 export and its older one ("Given Name", "Group Membership").
_GOOGLE_MARKERS = ({"e-mail 1 - value", "labels"}, {"e-mail 1 - value", "group membership"})
# Lines of notes LinkedIn puts before its header.
PREAMBLE_SCAN_LINES = 20


class DetectError(ValueError):
    """The file cannot be read as contacts; the message says why, for the user."""


@dataclass(frozen=True)
class Detected:
    format: str
    encoding: str
    text: str
    delimiter: str = ","
    # Lines before the CSV header (LinkedIn's notes), so line numbers stay the file's own.
    skip_lines: int = 0
    headers: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return FORMAT_LABELS[self.format]


def decode(data: bytes) -> tuple[str, str]:
    """(text, encoding): UTF-8 with or without a byte-order mark, UTF-16 with one, else Windows-1252."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace"), "utf-16"
    if b"\x00" in data[:4096]:
        raise DetectError("This is not a text file: export your contacts as CSV or vCard.")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        # Excel and Outlook on Windows save in the ANSI code page; the five bytes
        # Windows-1252 leaves undefined are kept as their Latin-1 characters.
        return data.decode("cp1252", errors="replace").replace("\ufffd", ""), "cp1252"


def _header_index(lines: list[str]) -> int:
    """Index of the header line: LinkedIn's comes after a few lines of notes."""
    for index, line in enumerate(lines[:PREAMBLE_SCAN_LINES]):
        lowered = line.lower()
        if lowered.startswith("first name,") and "connected on" in lowered:
            return index
    return 0


def sniff_delimiter(header_line: str) -> str:
    """``,`` or ``;`` (Excel in many European locales), or a tab."""
    try:
        return csv.Sniffer().sniff(header_line, delimiters=",;\t").delimiter
    except csv.Error:
        counts = {delimiter: header_line.count(delimiter) for delimiter in ",;\t"}
        return max(counts, key=lambda delimiter: counts[delimiter]) if any(counts.values()) else ","


def csv_format(headers: list[str]) -> str:
    columns = {header.strip().lower() for header in headers}
    if columns >= _LINKEDIN_COLUMNS:
        return LINKEDIN
    if any(marker <= columns for marker in _GOOGLE_MARKERS):
        return GOOGLE
    if columns >= _OUTLOOK_COLUMNS:
        return OUTLOOK
    return GENERIC


def headers_signature(headers: list[str]) -> str:
    """What identifies "a file with these columns" for remembering a mapping."""
    normalized = "\x1f".join(header.strip().lower() for header in headers)
    return hashlib.sha256(normalized.encode()).hexdigest()


def detect(data: bytes, file_name: str = "") -> Detected:
    """Decode ``data`` and recognize its format; DetectError when it is not contacts."""
    if not data.strip():
        raise DetectError("The file is empty.")
    text, encoding = decode(data)
    return inspect_text(text, encoding)


def inspect_text(text: str, encoding: str) -> Detected:
    """Recognize the format of already decoded ``text`` (also how a stored job is read again)."""
    if text.lstrip()[:11].upper() == "BEGIN:VCARD":
        return Detected(VCARD, encoding, text)
    lines = text.splitlines()
    skip = _header_index(lines)
    header_line = lines[skip] if skip < len(lines) else ""
    delimiter = sniff_delimiter(header_line)
    headers = [header.strip() for header in next(csv.reader(io.StringIO(header_line), delimiter=delimiter), [])]
    if not any(headers):
        raise DetectError("The first line should name the columns (First Name, Email, ...).")
    return Detected(csv_format(headers), encoding, text, delimiter, skip, headers)
