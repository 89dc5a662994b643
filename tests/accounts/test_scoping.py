"""Region scoping: who sees which support group (the pattern every record type follows)."""

import pytest

from itsmo.accounts.models import SupportGroup


def visible_codes(user):
    return set(SupportGroup.objects.visible_to(user).values_list("code", flat=True))


def test_agent_sees_own_country_and_regional_groups_only(
    desk_mexico, field_brazil, agent_brazil, agent_mexico
):
    assert visible_codes(agent_brazil) == {"field-br"}
    assert visible_codes(agent_mexico) == {"sd-mexico"}


def test_smo_analyst_sees_every_region(desk_mexico, field_brazil, smo_analyst):
    assert visible_codes(smo_analyst) == {"sd-mexico", "field-br"}


@pytest.mark.django_db
def test_anonymous_sees_nothing(desk_mexico):
    from django.contrib.auth.models import AnonymousUser

    assert not SupportGroup.objects.visible_to(AnonymousUser()).exists()


def test_region_grant_extends_scope(desk_mexico, field_brazil, agent_brazil, region_mexico):
    from itsmo.accounts import services

    services.set_scope(agent_brazil, regions=[region_mexico])
    assert visible_codes(agent_brazil) == {"sd-mexico", "field-br"}


def test_inactive_user_sees_nothing(desk_mexico, smo_analyst):
    smo_analyst.is_active = False
    assert visible_codes(smo_analyst) == set()


def test_company_wide_group_is_visible_to_every_agent(desk_mexico, agent_brazil, agent_mexico):
    from itsmo.accounts import services
    from itsmo.accounts.models import Tier

    services.create_support_group(code="sap", name="SAP", tier=Tier.L2, region=None)
    assert "sap" in visible_codes(agent_brazil)
    assert "sap" in visible_codes(agent_mexico)


def test_company_wide_group_cannot_name_a_country(brazil):
    from itsmo.accounts import services
    from itsmo.accounts.models import Tier
    from itsmo.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as caught:
        services.create_support_group(code="x", name="X", tier=Tier.L2, region=None, country=brazil)
    assert caught.value.field == "country"
    assert not SupportGroup.objects.filter(code="x").exists()


def test_token_expiry_with_an_unusual_offset_is_stored_in_utc(agent_brazil):
    from datetime import UTC, datetime, timedelta, timezone

    from itsmo.accounts import services
    from itsmo.accounts.models import ApiToken

    odd = timezone(-timedelta(hours=23, minutes=36))
    token, _secret = services.issue_token(
        agent_brazil, "odd", expires_at=datetime(2078, 6, 11, 16, 13, tzinfo=odd)
    )
    stored = ApiToken.objects.get(pk=token.pk).expires_at
    assert stored == datetime(2078, 6, 12, 15, 49, tzinfo=UTC)
