"""Signing in (email only, verified addresses only), password reset, the closed sign-up,
rate limits, the admin's login, and allauth's pages in the app's own look."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.cache import caches
from django.test import Client, override_settings
from django.urls import reverse

from socialcrm.models import Team, User
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN_URL = reverse("account_login")


def sign_in(client: Client, email: str, password: str = TEST_PASSWORD, **extra: str) -> Any:
    return client.post(LOGIN_URL, {"login": email, "password": password, **extra})


def signed_in_user(client: Client) -> User | None:
    """Who the client's session is signed in as (None while a sign-in is incomplete)."""
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id) if user_id else None


def link_in(message: Any) -> str:
    """The path of the first link to this site in an email."""
    match = re.search(r"https?://[^/\s]+(/\S+)", message.body)
    assert match, message.body
    return match[1]


# --- signing in -----------------------------------------------------------------------------------


def test_sign_in_with_email_and_password(alice: User) -> None:
    client = Client()

    response = sign_in(client, "alice@staff.example")

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert signed_in_user(client) == alice


def test_sign_in_ignores_the_case_of_the_email(alice: User) -> None:
    client = Client()

    sign_in(client, "Alice@STAFF.example")

    assert signed_in_user(client) == alice


def test_a_wrong_password_does_not_sign_in(alice: User) -> None:
    client = Client()

    response = sign_in(client, "alice@staff.example", "not the password")

    assert response.status_code == 200
    assert "The email address and/or password you specified are not correct." in response.content.decode()
    assert signed_in_user(client) is None


def test_the_sign_in_form_asks_for_an_email_not_a_username(db: None) -> None:
    form = Client().get(LOGIN_URL).context["form"]

    assert form.fields["login"].label == "Email"
    assert form.fields["login"].widget.input_type == "email"
    assert "username" not in form.fields


def test_an_unverified_address_cannot_sign_in_and_gets_a_verification_mail(team: Team) -> None:
    user = UserFactory(email="nora@staff.example", verified_email=False)
    client = Client()

    response = sign_in(client, "nora@staff.example")

    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert signed_in_user(client) is None
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["nora@staff.example"]
    assert mail.outbox[0].subject.startswith("[Social CRM] ")

    confirm_url = link_in(mail.outbox[0])
    assert client.post(confirm_url).status_code == 302

    assert EmailAddress.objects.get(user=user, email="nora@staff.example").verified
    sign_in(client, "nora@staff.example")
    assert signed_in_user(client) == user


def test_an_inactive_account_cannot_sign_in(alice: User) -> None:
    alice.is_active = False
    alice.save(update_fields=["is_active"])
    client = Client()

    sign_in(client, "alice@staff.example")

    assert signed_in_user(client) is None


# --- password reset ---------------------------------------------------------------------------------


def test_password_reset_mails_a_link_that_sets_a_new_password(alice: User) -> None:
    client = Client()

    response = client.post(reverse("account_reset_password"), {"email": "alice@staff.example"})

    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["alice@staff.example"]
    # The emailed link stores the key in the session and redirects to a key-less URL.
    set_password_page = client.get(link_in(mail.outbox[0]), follow=True)
    assert set_password_page.status_code == 200
    form_url = set_password_page.redirect_chain[-1][0]
    new_password = "a brand new long passphrase"
    done = client.post(form_url, {"password1": new_password, "password2": new_password})
    assert done.status_code == 302
    assert done["Location"] == reverse("account_reset_password_from_key_done")

    alice.refresh_from_db()
    assert alice.check_password(new_password)
    fresh = Client()
    sign_in(fresh, "alice@staff.example", new_password)
    assert signed_in_user(fresh) == alice
    old = Client()
    sign_in(old, "alice@staff.example", TEST_PASSWORD)
    assert signed_in_user(old) is None


# --- invite-only --------------------------------------------------------------------------------------


def test_sign_up_is_closed_with_a_clear_invite_only_page(db: None) -> None:
    client = Client()

    page = client.get(reverse("account_signup"))
    posted = client.post(
        reverse("account_signup"),
        {"email": "eve@elsewhere.example", "password1": "a long passphrase!", "password2": "a long passphrase!"},
    )

    assert page.status_code == posted.status_code == 200
    assert "Social CRM is invite-only" in page.content.decode()
    assert "Social CRM is invite-only" in posted.content.decode()
    assert not User.objects.filter(email="eve@elsewhere.example").exists()


def test_the_sign_in_page_does_not_invite_anyone_to_sign_up(db: None) -> None:
    html = Client().get(LOGIN_URL).content.decode()

    assert reverse("account_signup") not in html
    assert "sign up" not in html.lower()
    assert "invite-only" in html
    assert reverse("account_reset_password") in html


# --- rate limits ---------------------------------------------------------------------------------------


def test_repeated_failed_sign_ins_block_the_account_even_with_the_right_password(alice: User, bob: User) -> None:
    client = Client()
    # allauth's default login_failed limit: 5 failures per account in 5 minutes.
    for _ in range(5):
        assert sign_in(client, "alice@staff.example", "wrong password").status_code == 200

    blocked = sign_in(client, "alice@staff.example")

    assert "Too many failed login attempts" in blocked.content.decode()
    assert signed_in_user(client) is None
    # The limit is per account: a colleague behind the same address still gets in.
    sign_in(client, "bob@staff.example")
    assert signed_in_user(client) == bob


@pytest.fixture(
    params=["file", pytest.param("redis", marks=pytest.mark.integration)],
    ids=["file cache", "redis cache"],
)
def shared_cache(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[None]:
    """The caches settings.py picks outside tests: a file cache, or Redis when REDIS_URL is set."""
    if request.param == "file":
        config = {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": str(tmp_path)}
    else:
        redis_url = os.environ.get("REDIS_URL")
        if not redis_url:
            pytest.skip("needs a real Redis: set REDIS_URL")
        # A prefix of its own, so the test deletes only its keys (never FLUSHDB a shared Redis).
        config = {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": f"test-ratelimit-{uuid.uuid4().hex}",
        }
    # override_settings (not the settings fixture) so it ends before conftest's cache.clear().
    with override_settings(CACHES={"default": config}):
        yield
        if request.param == "redis":
            client = caches["default"]._cache.get_client(write=True)  # type: ignore[attr-defined]
            for key in client.scan_iter(f"{config['KEY_PREFIX']}:*"):
                client.delete(key)


def test_the_sign_in_limit_holds_across_sessions_in_the_shared_cache(alice: User, shared_cache: None) -> None:
    for _ in range(5):
        sign_in(Client(), "alice@staff.example", "wrong password")
    # Another browser (or another web worker) sees the same count.
    client = Client()

    blocked = sign_in(client, "alice@staff.example")

    assert "Too many failed login attempts" in blocked.content.decode()
    assert signed_in_user(client) is None


# --- the admin's login goes through allauth ----------------------------------------------------------


def test_the_admin_login_sends_anonymous_visitors_to_the_allauth_sign_in(db: None) -> None:
    client = Client()

    admin_index = client.get(reverse("admin:index"))
    admin_login = client.get(admin_index["Location"])

    assert admin_index.status_code == admin_login.status_code == 302
    assert admin_index["Location"].startswith(reverse("admin:login"))
    # Back to the admin page first asked for after signing in.
    assert admin_login["Location"] == LOGIN_URL + "?next=%2Fadmin%2F"


def test_posting_credentials_to_the_admin_login_does_not_sign_in(admin: User) -> None:
    # Django's own admin form (which allauth's rate limits do not cover) never sees the password.
    client = Client()

    response = client.post(reverse("admin:login"), {"username": "admin@staff.example", "password": TEST_PASSWORD})

    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN_URL)
    assert signed_in_user(client) is None


def test_the_admin_sign_in_is_rate_limited(admin: User) -> None:
    client = Client()
    next_admin = {"next": reverse("admin:index")}
    for _ in range(5):
        sign_in(client, "admin@staff.example", "wrong password", **next_admin)

    blocked = sign_in(client, "admin@staff.example", **next_admin)

    assert "Too many failed login attempts" in blocked.content.decode()
    assert client.get(reverse("admin:index")).status_code == 302


def test_staff_sign_in_through_allauth_reaches_the_admin(admin: User) -> None:
    client = Client()

    response = sign_in(client, "admin@staff.example", next=reverse("admin:index"))

    assert response["Location"] == reverse("admin:index")
    assert client.get(reverse("admin:index")).status_code == 200


def test_a_signed_in_non_staff_user_is_refused_the_admin_login(alice: User, client_for: Any) -> None:
    assert client_for(alice).get(reverse("admin:login")).status_code == 403


# --- allauth's pages look like the app ------------------------------------------------------------


def test_the_sign_in_page_uses_the_app_layout_and_classes(db: None) -> None:
    html = Client().get(LOGIN_URL).content.decode()

    assert 'class="site-header"' in html
    assert "/static/css/app.css" in html
    assert 'class="card form form-entrance"' in html
    assert 'class="button button-primary"' in html
    assert 'class="field"' in html
    assert "<title>" in html
    assert "Sign in · Social CRM" in re.sub(r"\s+", " ", html)


def test_account_pages_have_the_account_navigation(alice: User, client_for: Any) -> None:
    html = client_for(alice).get(reverse("account_email")).content.decode()

    assert 'aria-label="Account settings"' in html
    assert f'href="{reverse("account_email")}"\n                       aria-current="page"' in html
    assert reverse("account_change_password") in html
    assert reverse("mfa_index") in html
    assert 'class="badge badge-success"' in html  # alice's address is verified
    # No third-party sign-in is configured in tests.
    assert reverse("socialaccount_connections") not in html


def test_the_two_factor_page_uses_panels(alice: User, client_for: Any) -> None:
    html = client_for(alice).get(reverse("mfa_index")).content.decode()

    assert 'class="card panel"' in html
    assert 'class="panel-actions"' in html
    assert reverse("mfa_activate_totp") in html
