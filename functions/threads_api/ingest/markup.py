"""An HTML document's text, as a reader sees it: no script, style or template, a line break around each block
(paragraph, heading, list item, row, ...), runs of whitespace collapsed except in ``<pre>``. The standard
library's ``html.parser`` only: lenient about broken markup, and no dependency for the layer."""

from __future__ import annotations

import re
from html.parser import HTMLParser

# Elements whose content is not text a reader sees.
HIDDEN = frozenset({"script", "style", "template", "noembed", "noframes"})
# Elements that begin and end a line (the HTML Living Standard's block-level ones, and line breaks).
BLOCKS = frozenset(
    {
        *("address", "article", "aside", "blockquote", "body", "caption", "dd", "details", "dialog", "div"),
        *("dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6"),
        *("header", "hgroup", "hr", "html", "legend", "li", "main", "menu", "nav", "ol", "p", "pre", "section"),
        *("summary", "table", "tbody", "thead", "tfoot", "title", "tr", "ul", "br", "option", "textarea"),
    }
)
CELLS = frozenset({"td", "th"})
_SPACES = re.compile(r"\s+")
_BLANK_LINES = re.compile(r"\n{3,}")


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0  # depth inside hidden elements
        self.pre = 0  # depth inside <pre> (its whitespace is the text's)
        self.line_start = True

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in HIDDEN:
            self.hidden += 1
        elif tag in BLOCKS:
            self.newline(force=tag == "br")
            self.pre += tag == "pre"
        elif tag in CELLS and not self.line_start:
            self.emit("\t")  # between a row's cells

    def handle_endtag(self, tag: str) -> None:
        if tag in HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in BLOCKS and tag != "br":  # </br> is rare and <br/> ends nothing
            self.newline()
            self.pre = max(0, self.pre - (tag == "pre"))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # <br/>, <hr/>: one break, not two; an empty <script/> or <pre/> opens nothing.
        if tag in BLOCKS:
            self.newline(force=tag == "br")

    def handle_data(self, data: str) -> None:
        if self.hidden:
            return
        if self.pre:
            self.parts.append(data)
            self.line_start = data.endswith("\n")
            return
        text = _SPACES.sub(" ", data)
        self.emit(text.lstrip(" ") if self.line_start else text)

    def emit(self, text: str) -> None:
        if text:
            self.parts.append(text)
            self.line_start = False

    def newline(self, force: bool = False) -> None:
        """End the line, unless it is empty: blocks' edges make one break, however nested. <br> always breaks."""
        if force or not self.line_start:
            self.parts.append("\n")
            self.line_start = True


def html_text(markup: str) -> str:
    """The text of an HTML document. Raises AssertionError on the rare markup html.parser gives up on
    (``<![foo ...``): the caller decides what that means."""
    reader = _Reader()
    reader.feed(markup)
    reader.close()
    lines = "".join(reader.parts).split("\n")
    return _BLANK_LINES.sub("\n\n", "\n".join(line.rstrip() for line in lines)).strip()
