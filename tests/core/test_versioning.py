"""Optimistic locking: a stale write is refused with the current version, never applied."""

import pytest

from itsmo.accounts.models import SupportGroup
from itsmo.core.errors import StaleVersion
from itsmo.core.versioning import save_versioned


def test_write_with_current_version_bumps_it(desk_mexico):
    desk_mexico.name = "Mesa de Servicio MX"
    save_versioned(desk_mexico, 1, ["name"])
    stored = SupportGroup.objects.get(pk=desk_mexico.pk)
    assert (stored.name, stored.version, desk_mexico.version) == ("Mesa de Servicio MX", 2, 2)


def test_stale_write_raises_and_changes_nothing(desk_mexico):
    first_reader = SupportGroup.objects.get(pk=desk_mexico.pk)
    second_reader = SupportGroup.objects.get(pk=desk_mexico.pk)
    first_reader.name = "First"
    save_versioned(first_reader, first_reader.version, ["name"])

    second_reader.name = "Second"
    with pytest.raises(StaleVersion) as caught:
        save_versioned(second_reader, second_reader.version, ["name"])

    assert caught.value.current_version == 2
    assert caught.value.record.name == "First"
    assert SupportGroup.objects.get(pk=desk_mexico.pk).name == "First"
