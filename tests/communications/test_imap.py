"""The IMAP poller against a real server: Debian's dovecot on 127.0.0.1, started here."""

from __future__ import annotations

import imaplib
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from itsmo.communications import imap
from itsmo.communications.models import InboundMessage
from itsmo.incidents.models import Incident

from .conftest import free_port, load_sample, wait_for_port

DOVECOT = "/usr/sbin/dovecot"
USER, PASSWORD = "desk@itsmo.example", "imap-secret"

CONFIG = """
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{root}/mail/%n
first_valid_uid = 1
default_internal_user = {mail_user}
default_login_user = {mail_user}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%n
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
"""


@pytest.fixture(scope="module")
def dovecot():
    if not os.path.exists(DOVECOT):
        pytest.skip(
            f"{DOVECOT} is missing: apt-get install dovecot-imapd (scripts/ensure_test_services.sh)"
        )
    if os.geteuid() != 0:
        pytest.skip("dovecot is started as root (it drops to an unprivileged user itself)")
    mail_user = "nobody"
    account = pwd.getpwnam(mail_user)
    root = Path(tempfile.mkdtemp(prefix="itsmo-dovecot-"))
    root.chmod(0o755)
    for name in ("run", "state", "mail", "home"):
        (root / name).mkdir()
    for name in ("mail", "home"):
        os.chown(root / name, account.pw_uid, account.pw_gid)
    (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
    (root / "passwd").chmod(0o644)
    port = free_port()
    config = root / "dovecot.conf"
    config.write_text(
        CONFIG.format(
            root=root, port=port, uid=account.pw_uid, gid=account.pw_gid, mail_user=mail_user
        )
    )
    process = subprocess.Popen(
        [DOVECOT, "-F", "-c", str(config)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        wait_for_port(port)
    except RuntimeError:
        process.kill()
        log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
        output = process.stdout.read().decode(errors="replace")
        raise RuntimeError(f"dovecot did not start:\n{output}\n{log}") from None
    yield {"port": port, "root": root}
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def mailbox(dovecot, settings):
    settings.ITSMO_IMAP_HOST = "127.0.0.1"
    settings.ITSMO_IMAP_PORT = dovecot["port"]
    settings.ITSMO_IMAP_USER = USER
    settings.ITSMO_IMAP_PASSWORD = PASSWORD
    settings.ITSMO_IMAP_USE_SSL = False
    settings.ITSMO_IMAP_FOLDER = "INBOX"
    settings.ITSMO_IMAP_PROCESSED_FOLDER = ""
    client = imaplib.IMAP4("127.0.0.1", dovecot["port"])
    client.login(USER, PASSWORD)
    for folder in ("INBOX", "Processed"):
        client.create(folder)
        _status, count = client.select(folder)
        if int(count[0]):
            client.store("1:*", "+FLAGS.SILENT", r"(\Deleted)")
            client.expunge()
    yield client
    client.logout()


def append(client, raw: bytes) -> None:
    status, _ = client.append("INBOX", "", imaplib.Time2Internaldate(time.time()), raw)
    assert status == "OK"


def flags(client, folder: str = "INBOX") -> list[str]:
    _status, count = client.select(folder)
    if not int(count[0]):
        return []
    status, data = client.fetch("1:*", "(FLAGS)")
    return [item.decode() for item in data if item] if status == "OK" else []


@pytest.mark.django_db(transaction=True)
def test_the_poll_ingests_unseen_messages_and_marks_them_seen(mailbox, end_user_mexico):
    append(mailbox, load_sample("plain.eml"))
    append(mailbox, load_sample("html_only.eml"))
    append(mailbox, load_sample("auto_reply.eml"))
    append(mailbox, load_sample("garbage.eml"))
    assert imap.poll() == 4
    assert Incident.objects.count() == 2
    statuses = sorted(InboundMessage.objects.values_list("status", flat=True))
    assert statuses == ["ignored", "processed", "processed", "quarantined"]
    assert all("\\Seen" in line for line in flags(mailbox)) and len(flags(mailbox)) == 4
    assert imap.poll() == 0  # nothing unseen left


@pytest.mark.django_db(transaction=True)
def test_a_crash_before_the_flag_is_set_does_not_duplicate(mailbox, end_user_mexico, monkeypatch):
    append(mailbox, load_sample("plain.eml"))
    real_uid = imaplib.IMAP4.uid

    def crash_on_store(self, command, *args):
        if command == "STORE":
            raise ConnectionResetError("worker killed")
        return real_uid(self, command, *args)

    monkeypatch.setattr(imaplib.IMAP4, "uid", crash_on_store)
    with pytest.raises(ConnectionResetError):
        imap.poll()
    assert Incident.objects.count() == 1
    assert not any("\\Seen" in line for line in flags(mailbox))
    monkeypatch.setattr(imaplib.IMAP4, "uid", real_uid)
    assert imap.poll() == 1  # fetched again, ingested as a duplicate, now flagged
    assert Incident.objects.count() == 1 and InboundMessage.objects.count() == 1
    assert all("\\Seen" in line for line in flags(mailbox))


@pytest.mark.django_db(transaction=True)
def test_processed_messages_can_be_moved_to_a_folder(mailbox, end_user_mexico, settings):
    settings.ITSMO_IMAP_PROCESSED_FOLDER = "Processed"
    append(mailbox, load_sample("plain.eml"))
    assert imap.poll() == 1
    assert flags(mailbox) == []
    assert len(flags(mailbox, "Processed")) == 1
    assert Incident.objects.count() == 1


def test_without_a_host_the_poll_does_nothing(settings):
    settings.ITSMO_IMAP_HOST = ""
    assert imap.poll() == 0
