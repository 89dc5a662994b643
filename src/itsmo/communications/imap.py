"""The IMAP poller: ingest the unseen messages of one mailbox folder.

Each message is fetched with ``BODY.PEEK[]`` (fetching does not mark it read), ingested
(committed), and only then flagged ``\\Seen`` — or moved to ``ITSMO_IMAP_PROCESSED_FOLDER``
when one is set. A crash between the two leaves the message unseen; the next poll fetches it
again and the Message-ID makes the second ingest a no-op. Quarantined messages are flagged
too: their bytes are in the quarantine.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging

from django.conf import settings

from . import intake

logger = logging.getLogger(__name__)

#: At most this many messages per poll, so one run stays short.
POLL_BATCH = 200


def _setting(name: str, default=None):
    return getattr(settings, f"ITSMO_IMAP_{name}", default)


def is_configured() -> bool:
    return bool(_setting("HOST"))


def connect() -> imaplib.IMAP4:
    host, port = _setting("HOST"), int(_setting("PORT") or 0)
    timeout = int(_setting("TIMEOUT", 30) or 30)
    if _setting("USE_SSL", False):
        client = imaplib.IMAP4_SSL(host, port or 993, timeout=timeout)
    else:
        client = imaplib.IMAP4(host, port or 143, timeout=timeout)
        if _setting("STARTTLS", False):
            client.starttls()
    client.login(_setting("USER", ""), _setting("PASSWORD", ""))
    return client


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def poll(client: imaplib.IMAP4 | None = None) -> int:
    """Ingest up to :data:`POLL_BATCH` unseen messages; returns how many were handled."""
    if client is None and not is_configured():
        return 0
    own = client is None
    client = client or connect()
    handled = 0
    try:
        folder = _setting("FOLDER", "INBOX") or "INBOX"
        status, _data = client.select(_quote(folder))
        if status != "OK":
            raise imaplib.IMAP4.error(f"cannot select folder {folder}")
        status, data = client.uid("SEARCH", None, "UNSEEN")
        uids = (data[0] or b"").split() if status == "OK" else []
        processed = _setting("PROCESSED_FOLDER", "")
        can_move = "MOVE" in getattr(client, "capabilities", ())
        for uid in uids[:POLL_BATCH]:
            status, parts = client.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = next((p[1] for p in parts or [] if isinstance(p, tuple)), None)
            if status != "OK" or raw is None:
                logger.warning("IMAP: cannot fetch message %s", uid)
                continue
            row = intake.ingest(raw, source=f"imap:{folder}"[:40])
            logger.info("IMAP message %s: %s %s", uid, row.status, row.reference)
            if processed:
                if can_move:
                    client.uid("MOVE", uid, _quote(processed))
                else:
                    client.uid("COPY", uid, _quote(processed))
                    client.uid("STORE", uid, "+FLAGS.SILENT", r"(\Deleted \Seen)")
            else:
                client.uid("STORE", uid, "+FLAGS.SILENT", r"(\Seen)")
            handled += 1
        if processed and not can_move and handled:
            client.expunge()
    finally:
        if own:
            with contextlib.suppress(Exception):
                client.logout()
    return handled
