"""A file's text, by the type its name gives (its extension, in any case), or ``FileRejected``.

The types read are those of OpenAI's file_search that are text, Markdown, code, JSON, HTML, PDF or Word
(DOCX), and a few more plain-text ones (.csv, .yaml, .xml, more languages' source); .doc, .pptx, images,
archives and the rest are ``unsupported_file``. A file that is read but empty, corrupt, not what its name claims
(a binary ``.txt``), without text (a scanned PDF) or over ``MAX_TEXT_BYTES`` of text once extracted is
``invalid_file``. Nothing else is raised for a file's bytes, whatever they are, and the text returned always
encodes to UTF-8.

Text-like files are UTF-8 (a byte order mark allowed), or UTF-16 or UTF-32 with their byte order mark; a NUL
character means binary data, not text. JSON must parse; its text is the file's own, as given, not re-printed:
a chunk is quoted back to a model and a user as the file's words, re-printing would change numbers' spelling
(``1e3`` to ``1000.0``), drop duplicate keys and grow a minified file several times over for nothing.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Callable

from threads_api.ingest import documents, markup
from threads_api.ingest.errors import FileRejected, invalid

__all__ = ["MAX_TEXT_BYTES", "FileRejected", "extract_text", "kind_of"]

MAX_TEXT_BYTES = 8 * 1024 * 1024  # of UTF-8: ~2 million tokens, ~2,500 chunks of 800

# Kind -> its extensions; the kind names the types read in an unsupported file's message.
KINDS: dict[str, tuple[str, ...]] = {
    "text": (".txt", ".csv"),
    "Markdown": (".md", ".markdown"),
    "code": (
        *(".c", ".cc", ".cpp", ".cs", ".css", ".go", ".h", ".hpp", ".java", ".js", ".kt", ".php", ".py"),
        *(".rb", ".rs", ".scala", ".sh", ".sql", ".swift", ".tex", ".ts", ".xml", ".yaml", ".yml"),
    ),
    "JSON": (".json",),
    "HTML": (".html", ".htm"),
    "PDF": (".pdf",),
    "Word (DOCX)": (".docx",),
}
KIND_OF = {extension: kind for kind, extensions in KINDS.items() for extension in extensions}

# Byte order marks and their codecs (which drop the mark); UTF-32's before UTF-16's, whose marks they begin with.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
)


def extension(filename: str) -> str:
    """The extension, lower case (``.pdf``), or "" (no dot in the last path part, or only a leading one)."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    stem, dot, suffix = name.rpartition(".")
    return f".{suffix.lower()}" if dot and stem and suffix else ""


def kind_of(filename: str) -> str | None:
    """The kind of file that its name says (``PDF``), or None for a type that is not read."""
    return KIND_OF.get(extension(filename))


def extract_text(filename: str, data: bytes) -> str:
    """The file's text, ready to chunk. Raises FileRejected (only that) for a file that is not read."""
    kind = kind_of(filename)
    if kind is None:
        raise FileRejected("unsupported_file", _unsupported(filename))
    if not data:
        raise invalid(f"{filename} is empty.")
    text = _well_formed(READERS.get(kind, _plain)(filename, data))
    if len(text) > MAX_TEXT_BYTES or len(text.encode()) > MAX_TEXT_BYTES:
        raise invalid(
            f"{filename} holds more than {MAX_TEXT_BYTES // (1024 * 1024)} MiB of text once extracted, the limit "
            "of a file here: split it into smaller files."
        )
    if not text.strip():
        raise invalid(f"{filename} holds no text (only whitespace).")
    return text


def _well_formed(text: str) -> str:
    """The text, a lone surrogate (a broken PDF font map can yield one; no UTF-8 holds one) made U+FFFD: what is
    returned always encodes to UTF-8, to be stored and sent."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def _unsupported(filename: str) -> str:
    suffix = extension(filename)
    told = f"{filename} is a {suffix} file" if suffix else f"{filename} has no extension to tell its type"
    kinds = "; ".join(f"{kind} ({', '.join(extensions)})" for kind, extensions in KINDS.items())
    return f"{told}, which file_search does not read. The types read are: {kinds}."


def decode(filename: str, data: bytes) -> str:
    """A text file's bytes as text: UTF-8 (a BOM allowed), or UTF-16/UTF-32 with a BOM; never binary data."""
    for bom, codec, name in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(codec)
            except UnicodeDecodeError as exc:
                raise invalid(
                    f"{filename} begins with a {name} byte order mark but is not {name} text (an invalid "
                    f"sequence at byte {exc.start})."
                ) from exc
            break
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise invalid(
                f"{filename} is not UTF-8 text (an invalid byte at offset {exc.start}): a text file must be "
                "UTF-8, or UTF-16 with a byte order mark."
            ) from exc
    if "\x00" in text:
        raise invalid(f"{filename} holds NUL characters: it is binary data, not text.")
    return text


def _plain(filename: str, data: bytes) -> str:
    return decode(filename, data)


def _json(filename: str, data: bytes) -> str:
    text = decode(filename, data)
    try:
        json.loads(text)
    except RecursionError as exc:  # nesting deeper than the interpreter's stack
        raise invalid(f"{filename} is JSON nested too deeply to read.") from exc
    except ValueError as exc:  # json.JSONDecodeError is a ValueError
        raise invalid(f"{filename} is not valid JSON ({exc}).") from exc
    return text


def _html(filename: str, data: bytes) -> str:
    text = decode(filename, data)
    try:
        return markup.html_text(text)
    except AssertionError as exc:  # html.parser's way of giving up on some malformed declarations
        raise invalid(f"{filename} is not HTML that can be read ({exc}).") from exc


def _pdf(filename: str, data: bytes) -> str:
    return documents.pdf_text(filename, data, max_chars=MAX_TEXT_BYTES)


def _docx(filename: str, data: bytes) -> str:
    return documents.docx_text(filename, data)


READERS: dict[str, Callable[[str, bytes], str]] = {"JSON": _json, "HTML": _html, "PDF": _pdf, "Word (DOCX)": _docx}
