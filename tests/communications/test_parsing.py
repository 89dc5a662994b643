"""Pure rules: HTML to text, quoted replies, subjects, Message-IDs, the schedule."""

from __future__ import annotations

import pytest

from itsmo.communications.html import html_to_text, sanitise
from itsmo.communications.parsing import ParsedMail, message_id_of, strip_quoted
from itsmo.core.schedule import SCHEDULE


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>a</p><p>b</p>", "a\n\nb"),
        ("line<br>next", "line\nnext"),
        ("<div>caf&eacute; &lt;ok&gt; &#8364;</div>", "café <ok> €"),
        ("<pre>  keep\n    indent</pre>", "keep\n    indent"),
        ("<table><tr><td>a</td><td>b</td></tr></table>", "a\tb"),
        ("<head><title>t</title></head><body>x<script>y()</script></body>", "x"),
        ('<a href="mailto:x@y">mail</a> <a href="https://e.com">e</a>', "mail e <https://e.com>"),
        ("<img src=cid:1 alt=logo>", "[logo]"),
    ],
)
def test_html_to_text(html, text):
    assert html_to_text(html) == text


def test_sanitise_keeps_formatting_and_drops_scripts():
    dirty = '<p onclick="x()">hi <b>there</b><script>alert(1)</script><a href="javascript:x">l</a>'
    clean = sanitise(dirty)
    assert "<b>there</b>" in clean
    assert "script" not in clean and "onclick" not in clean and "javascript" not in clean


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("Thanks!\n\nOn Mon, 1 Jan 2026, Itsmo wrote:\n> old", "Thanks!"),
        ("Gracias\n\nEl lun, 1 ene 2026, Itsmo escribió:\n> viejo", "Gracias"),
        ("Obrigado\n\nEm seg., 1 de jan. de 2026, Itsmo escreveu:\n> velho", "Obrigado"),
        ("Done\n-----Original Message-----\nFrom: x@y", "Done"),
        ("> only quoted", "> only quoted"),
    ],
)
def test_strip_quoted(text, kept):
    assert strip_quoted(text) == kept


@pytest.mark.parametrize(
    ("subject", "topic", "references"),
    [
        (
            "RE: [INC0001234] new comment: Printer",
            "[INC0001234] new comment: Printer",
            ["INC0001234"],
        ),
        ("RV: Fwd: Re: VPN", "VPN", []),
        ("Res: inc0000042 status", "inc0000042 status", ["INC0000042"]),
    ],
)
def test_subject_topic_and_references(subject, topic, references):
    mail = ParsedMail(message_id="<m@x>", sender="a@b", sender_name="", subject=subject)
    assert mail.topic == topic and mail.subject_references() == references


def test_message_id_or_a_digest_of_the_bytes():
    assert message_id_of(b"Message-ID: <abc@host>\r\n\r\nbody") == "<abc@host>"
    digest = message_id_of(b"Subject: no id\r\n\r\nbody")
    assert digest.startswith("<sha256:") and digest == message_id_of(b"Subject: no id\r\n\r\nbody")


def test_the_worker_polls_the_mailbox_and_resends_due_notifications():
    jobs = {job.name: job for job in SCHEDULE}
    assert jobs["communications.poll"].resolve_task().name == "poll_mailbox"
    assert jobs["communications.send_due"].resolve_task().name == "send_due_notifications"
