"""PDF (pypdf) and DOCX (python-docx): their text, or ``invalid_file`` for a document that cannot be read.

A DOCX is a zip archive: before python-docx opens it, its central directory is checked against a zip bomb (the
sizes it declares, their total and each member's compression ratio). zipfile enforces the declared sizes when
it reads a member (it stops at the declared size, and the CRC then fails), so a bound on them is a bound on
what is decompressed. python-docx parses XML with entity resolution off.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from io import BytesIO
from typing import TYPE_CHECKING

from threads_api.ingest.errors import invalid, unreadable

if TYPE_CHECKING:
    from docx.blkcntnr import BlockItemContainer
    from docx.document import Document

MiB = 1024 * 1024
MAX_UNZIPPED_BYTES = 64 * MiB  # a DOCX of text is rarely over a few MiB expanded
MAX_RATIO = 100  # text XML compresses ~10:1; a run of zeros 1000:1
RATIO_FLOOR_BYTES = MiB  # a small member compressed hard harms nothing
MAX_MEMBERS = 10_000


def pdf_text(filename: str, data: bytes, max_chars: int) -> str:
    """The text of each page, pages apart by a blank line. Encrypted, or no text at all: ``invalid_file``."""
    from pypdf import PdfReader  # loaded only for a PDF

    with unreadable(filename, "PDF"):
        reader = PdfReader(BytesIO(data))
        encrypted = reader.is_encrypted
    if encrypted:
        raise invalid(f"{filename} is an encrypted (password-protected) PDF: upload it without a password.")
    pages: list[str] = []
    size = 0
    with unreadable(filename, "PDF"):
        for page in reader.pages:
            pages.append(page.extract_text())
            size += len(pages[-1])
            if size > max_chars:  # stop reading: the text is refused whatever the rest holds
                break
    text = "\n\n".join(pages)
    if not text.strip():
        raise invalid(
            f"{filename} has no text that can be extracted: its pages may be scanned images, which are not read "
            "(no OCR)."
        )
    return text


def docx_text(filename: str, data: bytes) -> str:
    """The paragraphs' and tables' text, in the document's order (a table a line per row, cells apart by tabs)."""
    _check_archive(filename, data)
    import docx  # loaded only for a DOCX (it loads lxml)

    with unreadable(filename, "Word document (DOCX)"):
        document = docx.Document(BytesIO(data))
        return "\n".join(_blocks(document))


def _check_archive(filename: str, data: bytes) -> None:
    with unreadable(filename, "Word document (DOCX)"), zipfile.ZipFile(BytesIO(data)) as archive:
        members = archive.infolist()
    if len(members) > MAX_MEMBERS:
        raise invalid(f"{filename} is a zip archive of {len(members)} members: a DOCX has far fewer.")
    total = sum(member.file_size for member in members)
    if total > MAX_UNZIPPED_BYTES:
        raise invalid(
            f"{filename} expands to {total // MiB} MiB once unzipped, over the limit of "
            f"{MAX_UNZIPPED_BYTES // MiB} MiB."
        )
    for member in members:
        if member.file_size > RATIO_FLOOR_BYTES and member.file_size > MAX_RATIO * max(member.compress_size, 1):
            raise invalid(
                f"{filename} holds {member.filename!r}, compressed more than {MAX_RATIO} to 1 "
                f"({member.compress_size} bytes for {member.file_size}): a zip bomb, not a document."
            )
    if "word/document.xml" not in {member.filename for member in members}:
        raise invalid(f"{filename} is a zip archive but not a Word document (DOCX): it has no word/document.xml.")


def _blocks(container: Document | BlockItemContainer) -> Iterator[str]:
    """The text of a document's (or a table cell's) paragraphs and tables, in order."""
    from docx.table import Table

    for item in container.iter_inner_content():
        if isinstance(item, Table):
            for row in item.rows:
                # A cell spanning columns comes once per column, as the same object: once is enough.
                cells = list({id(cell): cell for cell in row.cells}.values())
                yield "\t".join("\n".join(_blocks(cell)) for cell in cells)
        else:
            yield item.text
