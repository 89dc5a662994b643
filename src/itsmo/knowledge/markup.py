"""Article bodies: a small Markdown subset to HTML, sanitised with ``nh3``. No ORM.

Supported: ``#`` to ``###`` headings, paragraphs (blank-line separated), ``-``/``*`` and
``1.`` lists, fenced code blocks (```), inline ``code``, ``**bold**``, ``*italic*`` and
``[text](https://…)`` links. Everything else is plain text: the input is HTML-escaped
first, and the result passes through ``nh3`` with a short allow-list, so an article can
never carry a script, a style or an event handler whatever its author typed.
"""

from __future__ import annotations

import html
import re

import nh3

ALLOWED_TAGS = {
    "p",
    "br",
    "h2",
    "h3",
    "h4",
    "ul",
    "ol",
    "li",
    "pre",
    "code",
    "strong",
    "em",
    "a",
    "blockquote",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
URL_SCHEMES = {"http", "https", "mailto"}

_HEADING = re.compile(r"^(#{1,3})\s+(.*)$")
_BULLET = re.compile(r"^\s*[-*+]\s+(.*)$")
_NUMBERED = re.compile(r"^\s*\d+[.)]\s+(.*)$")
_CODE = re.compile(r"`([^`]+)`")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_ITALIC = re.compile(r"(?<![*\w])\*(?!\s)(.+?)(?<!\s)\*(?![*\w])")
_LINK = re.compile(r"\[([^\]]+)\]\(((?:https?://|mailto:|/)[^\s)]+)\)")


def _inline(text: str) -> str:
    """Inline markup of one escaped line (code spans are left alone)."""
    parts = _CODE.split(text)
    out = []
    for index, part in enumerate(parts):
        if index % 2:
            out.append(f"<code>{part}</code>")
            continue
        part = _LINK.sub(r'<a href="\2">\1</a>', part)
        part = _BOLD.sub(r"<strong>\1</strong>", part)
        part = _ITALIC.sub(r"<em>\1</em>", part)
        out.append(part)
    return "".join(out)


def to_html(text: str) -> str:
    """Sanitised HTML for an article body (Markdown subset or plain text)."""
    lines = html.escape(text or "", quote=False).replace("\r\n", "\n").split("\n")
    blocks: list[str] = []
    paragraph: list[str] = []
    items: list[str] = []
    list_tag = ""
    code: list[str] | None = None

    def flush() -> None:
        nonlocal list_tag
        if paragraph:
            blocks.append("<p>" + "<br>".join(_inline(line) for line in paragraph) + "</p>")
            paragraph.clear()
        if items:
            body = "".join(f"<li>{_inline(item)}</li>" for item in items)
            blocks.append(f"<{list_tag}>{body}</{list_tag}>")
            items.clear()
            list_tag = ""

    for line in lines:
        if code is not None:
            if line.strip().startswith("```"):
                blocks.append("<pre><code>" + "\n".join(code) + "</code></pre>")
                code = None
            else:
                code.append(line)
            continue
        if line.strip().startswith("```"):
            flush()
            code = []
            continue
        if not line.strip():
            flush()
            continue
        heading = _HEADING.match(line)
        if heading:
            flush()
            level = len(heading.group(1)) + 1  # the page's title is the h1
            blocks.append(f"<h{level}>{_inline(heading.group(2).strip())}</h{level}>")
            continue
        for pattern, tag in ((_BULLET, "ul"), (_NUMBERED, "ol")):
            match = pattern.match(line)
            if match:
                if paragraph or (list_tag and list_tag != tag):
                    flush()
                list_tag = tag
                items.append(match.group(1))
                break
        else:
            if items:
                flush()
            paragraph.append(line.strip())
    if code is not None:
        blocks.append("<pre><code>" + "\n".join(code) + "</code></pre>")
    flush()
    return nh3.clean(
        "\n".join(blocks),
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
    )


def excerpt(text: str, length: int = 180) -> str:
    """Plain text for lists and suggestions: markup characters dropped, cut at a word."""
    plain = re.sub(r"[#*`>\[\]]|\(https?://[^)]*\)", "", text or "")
    plain = " ".join(plain.split())
    if len(plain) <= length:
        return plain
    return plain[:length].rsplit(" ", 1)[0] + "…"
