"""Reading an RFC 822 message with the stdlib ``email`` package: values in, values out (no ORM).

:func:`parse` turns bytes into a :class:`ParsedMail`: sender, subject, the references it
answers, whether it is automatic (auto-reply, bounce) and why, the body as plain text, the
sanitised HTML body and the attachments (inline images included). Charsets are decoded by
name, with the WHATWG rule that ``iso-8859-1`` means ``windows-1252``; an unknown charset
falls back to UTF-8 with replacement characters rather than failing.
"""

from __future__ import annotations

import codecs
import hashlib
import mimetypes
import re
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import getaddresses

from .html import html_to_text, sanitise

REFERENCE = re.compile(r"\b(INC\d{7,})\b", re.IGNORECASE)
_REPLY_PREFIX = re.compile(
    r"^\s*((re|fwd?|aw|wg|rv|res|enc|tr|sv|vs)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE
)
_MSGID = re.compile(r"<[^<>\s]+>")
#: WHATWG: a mail labelled Latin-1 or ASCII is read as windows-1252 (its superset).
_CHARSET_ALIASES = dict.fromkeys(
    ("iso-8859-1", "iso8859-1", "latin1", "latin-1", "us-ascii", "ascii"), "windows-1252"
)
_DAEMONS = ("mailer-daemon", "postmaster", "mail-daemon")


class UnreadableMail(Exception):
    """The message cannot be read well enough to act on it."""


@dataclass
class Attachment:
    name: str
    content_type: str
    data: bytes
    content_id: str = ""
    is_inline: bool = False


@dataclass
class ParsedMail:
    message_id: str
    sender: str
    sender_name: str
    subject: str
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    automatic: str = ""  # why it is an auto-reply or a bounce; empty for a person's mail
    text: str = ""
    html: str = ""  # sanitised
    attachments: list[Attachment] = field(default_factory=list)

    @property
    def topic(self) -> str:
        """The subject without ``Re:``/``Fwd:``/``RV:``… prefixes."""
        return _REPLY_PREFIX.sub("", self.subject).strip()

    def subject_references(self) -> list[str]:
        return [m.upper() for m in REFERENCE.findall(self.subject)]


def message_id_of(raw: bytes) -> str:
    """The Message-ID (with its angle brackets), or ``<sha256:…>`` of the bytes without one."""
    try:
        headers = message_from_bytes(raw, policy=default_policy, _class=EmailMessage)
        found = _MSGID.findall(str(headers.get("Message-ID", "") or ""))
        if found and len(found[0]) <= 255:
            return found[0]
    except Exception:
        pass
    return f"<sha256:{hashlib.sha256(raw).hexdigest()}>"


def _header(message: EmailMessage, name: str) -> str:
    try:
        value = message.get(name)
    except Exception:  # a header too malformed to read is as good as absent
        value = ""
    return str(value or "").strip()


def _decode(part: EmailMessage) -> str:
    data = part.get_payload(decode=True) or b""
    charset = (part.get_content_charset() or "utf-8").lower()
    charset = _CHARSET_ALIASES.get(charset, charset)
    try:
        codecs.lookup(charset)
    except LookupError:
        charset = "utf-8"
    text = data.decode(charset, errors="replace")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _automatic(message: EmailMessage, sender: str) -> str:
    auto = _header(message, "Auto-Submitted").lower()
    if auto and not auto.startswith("no"):
        return f"Auto-Submitted: {auto}"
    for name in ("X-Autoreply", "X-Autorespond", "X-Autoresponder"):
        if _header(message, name):
            return f"{name} header"
    precedence = _header(message, "Precedence").lower()
    if precedence in ("bulk", "auto_reply", "junk", "list"):
        return f"Precedence: {precedence}"
    if message.get_content_type() == "multipart/report":
        kind = message.get_param("report-type") or "report"
        return f"delivery report (multipart/report; {kind})"
    if sender.partition("@")[0].lower() in _DAEMONS:
        return f"sent by {sender.partition('@')[0]}"
    if _header(message, "Return-Path") == "<>":
        return "bounce (empty Return-Path)"
    return ""


def _filename(part: EmailMessage, index: int) -> str:
    name = ""
    try:
        name = part.get_filename() or ""
    except Exception:
        name = ""
    name = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    if name:
        return name
    content_type = part.get_content_type()
    extension = mimetypes.guess_extension(content_type) or ".bin"
    if content_type == "message/rfc822":
        extension = ".eml"
    cid = (_header(part, "Content-ID")).strip("<>").partition("@")[0]
    stem = re.sub(r"[^\w.-]+", "-", cid).strip("-.") or f"part-{index}"
    return f"{stem}{extension}"


def _walk(part: EmailMessage, found: list[EmailMessage]) -> None:
    if part.get_content_type() == "message/rfc822":
        found.append(part)  # a forwarded mail is kept whole, not read as ours
    elif part.is_multipart():
        for child in part.iter_parts():
            _walk(child, found)
    else:
        found.append(part)


def parse(raw: bytes) -> ParsedMail:
    """Read a message; raises :class:`UnreadableMail` when there is no usable sender."""
    if not raw or not raw.strip():
        raise UnreadableMail("the message is empty")
    try:
        message = message_from_bytes(raw, policy=default_policy, _class=EmailMessage)
    except Exception as error:  # the parser is lenient; this is rare
        raise UnreadableMail(f"the message cannot be parsed: {error}") from error
    if not any(message.keys()):
        raise UnreadableMail("the message has no headers")
    try:
        addresses = getaddresses([_header(message, "From")])
    except Exception:
        addresses = []
    addresses = [(name, addr) for name, addr in addresses if "@" in addr]
    if not addresses:
        raise UnreadableMail("the message has no sender address (From)")
    sender_name, sender = addresses[0]
    sender = sender.strip().lower()
    mail = ParsedMail(
        message_id=message_id_of(raw),
        sender=sender,
        sender_name=sender_name.strip(),
        subject=" ".join(_header(message, "Subject").split())[:255],
        in_reply_to=_MSGID.findall(_header(message, "In-Reply-To")),
        references=_MSGID.findall(_header(message, "References")),
        automatic=_automatic(message, sender),
    )
    if mail.automatic:
        return mail
    body_parts = set()
    body = message.get_body(preferencelist=("plain", "html"))
    html_body = message.get_body(preferencelist=("html",))
    if html_body is not None:
        mail.html = sanitise(_decode(html_body))
        body_parts.add(id(html_body))
    if body is not None:
        body_parts.add(id(body))
        text = _decode(body)
        mail.text = html_to_text(text) if body.get_content_type() == "text/html" else text
    mail.text = mail.text.strip()
    parts: list[EmailMessage] = []
    _walk(message, parts)
    for index, part in enumerate(parts, start=1):
        if id(part) in body_parts:
            continue
        disposition = part.get_content_disposition()
        content_type = part.get_content_type()
        is_text = content_type in ("text/plain", "text/html")
        if is_text and disposition != "attachment" and not part.get_filename():
            continue  # another alternative of the body
        if content_type == "message/rfc822":
            inner = part.get_payload()
            data = inner[0].as_bytes() if isinstance(inner, list) and inner else b""
        else:
            data = part.get_payload(decode=True) or b""
        mail.attachments.append(
            Attachment(
                name=_filename(part, index),
                content_type=content_type,
                data=data,
                content_id=_header(part, "Content-ID").strip("<>"),
                is_inline=disposition == "inline" or bool(_header(part, "Content-ID")),
            )
        )
    return mail


_QUOTE_STARTS = (
    re.compile(r"^\s*-{2,}\s*(original message|mensaje original|mensagem original)", re.I),
    re.compile(
        r"^\s*(on|el|em|le|am)\b.{0,200}\b(wrote|escribió|escreveu|a écrit|schrieb)\s*:\s*$", re.I
    ),
    re.compile(r"^\s*(from|de|von)\s*:\s*.+@", re.I),
)


def strip_quoted(text: str) -> str:
    """A reply without the quoted conversation below it (what the person wrote now)."""
    kept = []
    for line in text.splitlines():
        if any(pattern.match(line) for pattern in _QUOTE_STARTS):
            break
        kept.append(line)
    while kept and (not kept[-1].strip() or kept[-1].lstrip().startswith(">")):
        kept.pop()
    result = "\n".join(line for line in kept if not line.lstrip().startswith(">")).strip()
    return result or text.strip()
