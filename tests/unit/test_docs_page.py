"""The docs page (the DocsFunction's answer, called directly): Swagger UI pinned with SRI under a
Content-Security-Policy, and the OpenAPI document without one."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from html.parser import HTMLParser


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.external: list[dict[str, str | None]] = []
        self.inline_scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "script" and not found.get("src"):
            self._in_script = True
        if (tag == "script" and found.get("src")) or (tag == "link" and found.get("rel") == "stylesheet"):
            self.external.append({"url": found.get("src") or found.get("href"), **found})

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False if tag == "script" else self._in_script

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.inline_scripts.append(data)


def test_docs_page_pins_swagger_ui_with_sri_under_a_content_security_policy() -> None:
    from handlers import docs

    reply = docs.handler({"path": "/docs", "requestContext": {"requestId": "r"}})
    assets = _Assets()
    assets.feed(reply["body"])
    assert len(assets.external) == 2
    policy = dict(
        [*directive.split(" ", 1), ""][:2] for directive in reply["headers"]["content-security-policy"].split("; ")
    )
    assert policy["default-src"] == "'none'"
    assert "unsafe-eval" not in json.dumps(policy)
    assert policy["frame-ancestors"] == "'none'"
    assert policy["connect-src"] == "'self'"
    for asset in assets.external:
        url = str(asset["url"])
        assert re.search(r"@\d+\.\d+\.\d+/", url), f"not pinned to one version: {url}"
        assert re.fullmatch(r"sha384-[A-Za-z0-9+/]{64}", str(asset["integrity"])), url
        assert asset["crossorigin"] == "anonymous", url  # SRI on a cross-origin file needs CORS
        directive = "script-src" if url.endswith(".js") else "style-src"
        assert url in policy[directive].split(), f"{url} not allowed by {directive}"
    (script,) = assets.inline_scripts
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in policy["script-src"].split()
    assert "'unsafe-inline'" not in policy["script-src"]
    document = docs.handler({"path": "/openapi.json", "requestContext": {"requestId": "r"}})
    assert "content-security-policy" not in document["headers"]
