"""Fixtures of the web UI tests: a signed-in client per kind of user, reading English."""

from __future__ import annotations

import pytest

from itsmo.accounts import services as accounts


@pytest.fixture
def admin_client(client, admin_user):
    accounts.update_preferences(admin_user, language="en")
    client.force_login(admin_user)
    return client


@pytest.fixture
def agent_client(client, agent_mexico):
    accounts.update_preferences(agent_mexico, language="en")
    client.force_login(agent_mexico)
    return client


from tests.incidents.conftest import open_mexico_incident  # noqa: E402, F401
