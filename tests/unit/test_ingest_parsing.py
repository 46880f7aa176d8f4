"""A file's text (threads_api/ingest/parsing.py): each type read, and each way a file is refused, always as
FileRejected with its code and a sentence naming the file."""

from __future__ import annotations

import codecs
import random

import pytest

from infra.ops import sample_documents as make
from threads_api.ingest import documents, parsing
from threads_api.ingest.parsing import FileRejected, extract_text

MiB = 1024 * 1024


def _rejected(filename: str, data: bytes) -> FileRejected:
    with pytest.raises(FileRejected) as caught:
        extract_text(filename, data)
    assert filename in caught.value.message
    assert str(caught.value) == caught.value.message
    return caught.value


@pytest.mark.parametrize(
    "filename",
    [
        *("notes.txt", "README.md", "guide.markdown", "main.py", "App.java", "x.c", "x.cpp", "x.cs", "x.go"),
        *("x.rb", "x.php", "run.sh", "site.css", "paper.tex", "index.ts", "index.js", "data.csv", "NOTES.TXT"),
    ],
)
def test_text_and_code_are_read_as_utf8(filename: str) -> None:
    assert extract_text(filename, "Grüße, 世界 🎉\n".encode()) == "Grüße, 世界 🎉\n"


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (codecs.BOM_UTF8 + "héllo".encode(), "héllo"),
        ("héllo 🎉".encode("utf-16"), "héllo 🎉"),  # with the machine's byte order mark
        (codecs.BOM_UTF16_LE + "héllo".encode("utf-16-le"), "héllo"),
        (codecs.BOM_UTF16_BE + "héllo".encode("utf-16-be"), "héllo"),
        ("héllo".encode("utf-32"), "héllo"),
    ],
)
def test_a_byte_order_mark_tells_the_encoding_and_is_dropped(data: bytes, text: str) -> None:
    assert extract_text("a.txt", data) == text


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not UTF-8 text (an invalid byte at offset 0)"),
        (b"caf\xe9", "not UTF-8 text (an invalid byte at offset 3)"),  # Latin-1
        (b"text\x00with NUL", "NUL characters: it is binary data"),
        ("hello".encode("utf-16-le"), "NUL characters"),  # UTF-16 without its mark
        (codecs.BOM_UTF16_LE + b"h\x00i", "UTF-16 byte order mark but is not UTF-16 text"),
    ],
)
def test_a_file_that_claims_text_and_is_not_is_invalid(data: bytes, says: str) -> None:
    rejected = _rejected("binary.txt", data)
    assert rejected.code == "invalid_file"
    assert says in rejected.message


@pytest.mark.parametrize("data", [b"", b" \n\t\r\n ", codecs.BOM_UTF8])
def test_an_empty_file_or_only_whitespace_is_invalid(data: bytes) -> None:
    rejected = _rejected("blank.md", data)
    assert rejected.code == "invalid_file"
    assert rejected.message in ("blank.md is empty.", "blank.md holds no text (only whitespace).")


@pytest.mark.parametrize("filename", ["deck.pptx", "old.doc", "photo.PNG", "archive.zip", "sheet.xlsx", "README"])
def test_types_not_read_are_unsupported_and_the_message_says_which_are(filename: str) -> None:
    rejected = _rejected(filename, b"whatever")
    assert rejected.code == "unsupported_file"
    assert "which file_search does not read" in rejected.message or "has no extension" in rejected.message
    assert "PDF (.pdf)" in rejected.message
    assert "Word (DOCX) (.docx)" in rejected.message


def test_the_extension_is_the_last_parts_in_any_case() -> None:
    assert parsing.extension("dir.v2/Report.Final.PDF") == ".pdf"
    assert parsing.extension("C:\\docs\\a.Md") == ".md"
    assert parsing.extension(".bashrc") == ""
    assert parsing.extension("trailing.") == ""
    assert parsing.kind_of("x.docx") == "Word (DOCX)"
    assert parsing.kind_of("x.pptx") is None


def test_json_must_parse_and_its_text_is_the_file_as_given() -> None:
    data = b'{"a":1e3,"b":[1,2],"a":"dup"}'
    assert extract_text("data.json", data) == data.decode()  # not re-printed: 1e3 and the duplicate key kept
    rejected = _rejected("broken.json", b'{"a": 1,}')
    assert rejected.code == "invalid_file"
    assert "is not valid JSON (" in rejected.message
    deep = _rejected("deep.json", b"[" * 100_000 + b"]" * 100_000)
    assert deep.message == "deep.json is JSON nested too deeply to read."


def test_html_is_its_visible_text_with_blocks_on_their_own_lines() -> None:
    page = (
        "<!DOCTYPE html><html><head><title>Title</title><style>p { color: red }</style>"
        "<script>var s = '<p>not text</p>';</script></head><body>\n  <h1>Head</h1>\n"
        "<p>Some   <b>bold</b>\n text &amp; more</p><ul><li>one</li><li>two</li></ul>"
        "a<br>b<br/>c<pre>  code\n    indented</pre><table><tr><td>A</td><td>B</td></tr></table>"
        "<template><p>hidden</p></template><!-- a comment --></body></html>"
    )
    assert extract_text("page.HTML", page.encode()) == (
        "Title\nHead\nSome bold text & more\none\ntwo\na\nb\nc\n  code\n    indented\nA\tB"
    )
    assert extract_text("page.htm", b"<p>a</p><br><br><p>b</p>") == "a\n\nb"


def test_html_that_the_parser_gives_up_on_is_invalid() -> None:
    rejected = _rejected("odd.html", b"<p>text</p><![foo bar")
    assert rejected.code == "invalid_file"
    assert "is not HTML that can be read" in rejected.message


def test_html_with_no_visible_text_is_invalid() -> None:
    assert _rejected("empty.html", b"<html><script>x()</script></html>").code == "invalid_file"


def test_text_over_the_limit_once_extracted_is_invalid() -> None:
    assert len(extract_text("max.txt", b"a" * parsing.MAX_TEXT_BYTES)) == parsing.MAX_TEXT_BYTES
    rejected = _rejected("big.txt", b"a" * (parsing.MAX_TEXT_BYTES + 1))
    assert "more than 8 MiB of text once extracted" in rejected.message
    # The limit is of UTF-8: fewer characters than bytes.
    accented = "é" * (parsing.MAX_TEXT_BYTES // 2 + 1)
    assert "8 MiB" in _rejected("big.md", accented.encode()).message


def test_a_pdfs_text_is_its_pages() -> None:
    assert extract_text("one.pdf", make.pdf("Hello PDF")) == "Hello PDF"
    assert extract_text("Two.PDF", make.pdf("First (page)", "Second page")) == "First (page)\n\nSecond page"


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (make.encrypted_pdf("secret text"), "is an encrypted (password-protected) PDF"),
        (make.pdf("", ""), "has no text that can be extracted: its pages may be scanned images"),
        (make.pdf("Hello")[:120], "is not a PDF that can be read ("),  # truncated
        (b"%PDF-1.7\nnothing else", "is not a PDF that can be read ("),
        (b"GIF89a not a pdf at all", "is not a PDF that can be read ("),
    ],
    ids=["encrypted", "no-text", "truncated", "no-objects", "not-a-pdf"],  # an encrypted PDF's bytes are random
)
def test_a_pdf_encrypted_corrupt_or_without_text_is_invalid(data: bytes, says: str) -> None:
    rejected = _rejected("doc.pdf", data)
    assert rejected.code == "invalid_file"
    assert says in rejected.message


def test_a_pdfs_pages_are_read_no_further_than_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parsing, "MAX_TEXT_BYTES", 20)
    assert "more than 0 MiB" in _rejected("long.pdf", make.pdf("page one text", "page two text", "three")).message


def test_a_lone_surrogate_a_document_yields_becomes_the_replacement_character(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(documents, "pdf_text", lambda filename, data, max_chars: "broken \ud835 glyph")
    assert extract_text("fonts.pdf", b"%PDF-") == "broken \ufffd glyph"


def test_a_docxs_text_is_its_paragraphs_and_tables_in_order() -> None:
    data = make.docx_file(["First paragraph", "Second"], table=[["a", "b", "c"], ["d", "e", "f"]], merged=True)
    assert extract_text("report.DOCX", data) == "First paragraph\nSecond\nMerged\tc\nd\te\tf\nThe end"


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"PK\x03\x04 not really a zip", "is not a Word document (DOCX) that can be read ("),
        (b"plain text", "is not a Word document (DOCX) that can be read (File is not a zip file)"),
        (make.zip_file({"xl/workbook.xml": b"<x/>"}), "is a zip archive but not a Word document (DOCX)"),
        (make.zip_file({"word/document.xml": b"<w:document/>"}), "is not a Word document (DOCX) that can be read"),
        (make.zip_file({"word/document.xml": bytes(100 * MiB)}), "expands to 100 MiB once unzipped, over the limit"),
        (make.zip_file({"word/document.xml": bytes(2 * MiB)}), "compressed more than 100 to 1"),
        (make.docx_file(["x"])[:-200], "is not a Word document (DOCX) that can be read"),  # truncated
    ],
    # A zip holds its members' times: ids from the bytes would differ between xdist's workers.
    ids=["not-a-zip", "text", "a-workbook", "no-body", "bomb-by-size", "bomb-by-ratio", "truncated"],
)
def test_a_docx_that_is_not_one_or_a_zip_bomb_is_invalid(data: bytes, says: str) -> None:
    rejected = _rejected("doc.docx", data)
    assert rejected.code == "invalid_file"
    assert says in rejected.message


def test_a_zip_of_too_many_members_is_not_opened(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(documents, "MAX_MEMBERS", 3)
    data = make.zip_file({f"word/part{i}.xml": b"<x/>" for i in range(4)})
    assert "is a zip archive of 4 members" in _rejected("many.docx", data).message


@pytest.mark.parametrize("filename", ["m.pdf", "m.docx", "m.json", "m.html", "m.txt"])
def test_mangled_files_are_only_ever_refused_as_invalid(filename: str) -> None:
    """Bytes flipped, cut or inserted in a genuine file: its text or FileRejected, nothing else, ever."""
    originals = {
        "m.pdf": make.pdf("Hello PDF", "two"),
        "m.docx": make.docx_file(["Hello"], table=[["a", "b"]]),
        "m.json": b'{"key": ["value", 1, 2.5, null]}',
        "m.html": b"<html><body><p>Hi</p><!DOCTYPE x [<!ENTITY a 'b'>]></body></html>",
        "m.txt": "héllo wörld".encode(),
    }
    rng = random.Random(filename)
    for _ in range(60):
        data = bytearray(originals[filename])
        for _ in range(rng.randint(1, 4)):
            if not data:
                break
            at = rng.randrange(len(data))
            action = rng.randrange(3)
            if action == 0:
                data[at] = rng.randrange(256)
            elif action == 1:
                del data[at : at + rng.randint(1, 64)]
            else:
                data[at:at] = rng.randbytes(rng.randint(1, 8))
        try:
            assert isinstance(extract_text(filename, bytes(data)), str)
        except FileRejected as rejected:
            assert rejected.code == "invalid_file", rejected.message
