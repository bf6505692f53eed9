from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from socialcrm.roles import Role
from tests.factories import ContactFactory, UserFactory


@pytest.mark.django_db
def test_a_salesperson_in_no_team_yet_gets_an_empty_list(team: Any, client_for: Any) -> None:
    ContactFactory(team=team, display_name="Someone Else's")
    newcomer = UserFactory(roles=[Role.SALES])

    response = client_for(newcomer).get(reverse("contacts:list"))

    assert response.status_code == 200
    assert "Someone Else" not in response.content.decode()
