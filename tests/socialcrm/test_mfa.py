"""Two-factor authentication through allauth.mfa's real views: enrol an authenticator app,
then sign in with its code or with a one-time recovery code."""

from __future__ import annotations

import time
from typing import Any

import pytest
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.test import Client
from django.urls import reverse

from socialcrm.models import User
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db


def totp_code(secret: str, *, offset: int = 0) -> str:
    """What an authenticator app shows now (RFC 6238), computed with allauth's own HOTP."""
    counter = int(time.time()) // mfa_settings.TOTP_PERIOD + offset
    return format_hotp_value(hotp_value(secret, counter))


def password_sign_in(email: str) -> tuple[Client, Any]:
    client = Client()
    response = client.post(reverse("account_login"), {"login": email, "password": TEST_PASSWORD})
    return client, response


def signed_in_user(client: Client) -> User | None:
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id) if user_id else None


def reauthenticated_client(email: str) -> Client:
    """Signed in, and the password confirmed again, as allauth asks before changing factors."""
    client, _ = password_sign_in(email)
    activate = reverse("mfa_activate_totp")
    asked = client.get(activate)
    assert asked["Location"].startswith(reverse("account_reauthenticate"))
    confirmed = client.post(asked["Location"], {"password": TEST_PASSWORD})
    assert confirmed["Location"] == activate
    return client


def enrol_totp(email: str) -> tuple[str, list[str]]:
    """Activate an authenticator app through the views; return its secret and the recovery codes."""
    client = reauthenticated_client(email)
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200
    secret = page.context["form"].secret
    assert secret in page.content.decode()  # shown for manual entry next to the QR code

    activated = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})

    # allauth generates recovery codes with the first authenticator and shows them next.
    assert activated.status_code == 302
    assert activated["Location"] == reverse("mfa_view_recovery_codes")
    codes_page = client.get(activated["Location"])
    codes = list(codes_page.context["unused_codes"])
    assert codes_page.context["can_view_codes"]
    return secret, codes


def test_enrolling_an_authenticator_app_stores_it_and_generates_recovery_codes(alice: User) -> None:
    _, codes = enrol_totp("alice@staff.example")

    types = set(Authenticator.objects.filter(user=alice).values_list("type", flat=True))
    assert types == {Authenticator.Type.TOTP, Authenticator.Type.RECOVERY_CODES}
    assert len(codes) == mfa_settings.RECOVERY_CODE_COUNT
    assert len(set(codes)) == len(codes)


def test_a_wrong_code_does_not_enrol(alice: User) -> None:
    client = reauthenticated_client("alice@staff.example")
    secret = client.get(reverse("mfa_activate_totp")).context["form"].secret

    response = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret, offset=10)})

    assert response.status_code == 200
    assert "code" in response.context["form"].errors
    assert not Authenticator.objects.filter(user=alice).exists()


def test_enrolling_asks_for_the_password_again_first(alice: User) -> None:
    client, _ = password_sign_in("alice@staff.example")

    response = client.get(reverse("mfa_activate_totp"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    wrong = client.post(response["Location"], {"password": "not the password"})
    assert wrong.status_code == 200
    assert client.get(reverse("mfa_activate_totp")).status_code == 302


def test_after_enrolling_the_password_alone_does_not_sign_in(alice: User) -> None:
    enrol_totp("alice@staff.example")

    client, response = password_sign_in("alice@staff.example")

    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    assert signed_in_user(client) is None
    assert client.get(reverse("home")).status_code == 302


def test_signing_in_with_the_authenticator_code(alice: User) -> None:
    secret, _ = enrol_totp("alice@staff.example")
    client, _ = password_sign_in("alice@staff.example")

    wrong = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret, offset=10)})
    assert wrong.status_code == 200
    assert signed_in_user(client) is None

    right = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})

    assert right.status_code == 302
    assert right["Location"] == reverse("home")
    assert signed_in_user(client) == alice


def test_a_recovery_code_signs_in_once(alice: User) -> None:
    _, codes = enrol_totp("alice@staff.example")
    client, _ = password_sign_in("alice@staff.example")

    used = client.post(reverse("mfa_authenticate"), {"code": codes[0]})

    assert used.status_code == 302
    assert signed_in_user(client) == alice
    again, _ = password_sign_in("alice@staff.example")
    refused = again.post(reverse("mfa_authenticate"), {"code": codes[0]})
    assert refused.status_code == 200
    assert signed_in_user(again) is None
    another = again.post(reverse("mfa_authenticate"), {"code": codes[1]})
    assert another.status_code == 302
    assert signed_in_user(again) == alice


def test_the_two_factor_page_shows_what_is_active(alice: User) -> None:
    secret, codes = enrol_totp("alice@staff.example")
    client, _ = password_sign_in("alice@staff.example")
    client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})

    html = client.get(reverse("mfa_index")).content.decode()

    assert "Authentication using an authenticator app is active." in html
    assert reverse("mfa_deactivate_totp") in html
    assert f"There are {len(codes)} out of {len(codes)} recovery codes available." in html
