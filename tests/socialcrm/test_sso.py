"""Company single sign-on over OpenID Connect, configured by environment variables only.

The full sign-in runs against a small identity provider served over real HTTP on loopback
(discovery document, token and userinfo endpoints), so allauth's own client code runs too.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from allauth.account.models import EmailAddress
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.models import SocialAccount, SocialLogin
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from socialcrm.env import socialaccount_providers
from socialcrm.models import Invitation, Team, User
from socialcrm.roles import Role, has_role
from tests.factories import InvitationFactory

pytestmark = pytest.mark.django_db

OIDC_ENV = {
    "OIDC_SERVER_URL": "https://id.example.com/realms/staff",
    "OIDC_CLIENT_ID": "social-crm",
    "OIDC_CLIENT_SECRET": "s3cret",
    "OIDC_NAME": "Example Corp",
}


# --- configuration from the environment -------------------------------------------------------------


def test_the_provider_is_built_from_the_environment() -> None:
    providers = socialaccount_providers(environ=OIDC_ENV)

    assert providers["openid_connect"]["APPS"] == [
        {
            "provider_id": "company",
            "name": "Example Corp",
            "client_id": "social-crm",
            "secret": "s3cret",
            "settings": {"server_url": "https://id.example.com/realms/staff"},
        }
    ]
    assert providers["openid_connect"]["OAUTH_PKCE_ENABLED"] is True


@pytest.mark.parametrize("missing", ["OIDC_SERVER_URL", "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET"])
def test_sso_stays_off_unless_server_client_and_secret_are_all_set(missing: str) -> None:
    environ = {name: value for name, value in OIDC_ENV.items() if name != missing}

    assert socialaccount_providers(environ=environ)["openid_connect"]["APPS"] == []


def test_the_button_has_a_default_name_and_the_secret_may_come_from_a_file(tmp_path: Path) -> None:
    secret_file = tmp_path / "secret"
    secret_file.write_text("from-a-file\n")
    environ = {
        "OIDC_SERVER_URL": "https://id.example.com",
        "OIDC_CLIENT_ID": "crm",
        "OIDC_CLIENT_SECRET_FILE": str(secret_file),
    }

    (app,) = socialaccount_providers(environ=environ)["openid_connect"]["APPS"]

    assert app["name"] == "Company SSO"
    assert app["secret"] == "from-a-file"


@pytest.fixture
def sso_on(settings: Any) -> None:
    settings.SOCIALACCOUNT_PROVIDERS = socialaccount_providers(environ=OIDC_ENV)


def test_with_sso_configured_the_sign_in_page_shows_its_button(sso_on: None) -> None:
    html = Client().get(reverse("account_login")).content.decode()

    login_url = reverse("openid_connect_login", kwargs={"provider_id": "company"})
    assert f'href="{login_url}?process=login"' in html
    assert "Sign in with Example Corp" in html


def test_without_sso_the_sign_in_page_has_no_button(db: None) -> None:
    html = Client().get(reverse("account_login")).content.decode()

    assert "/accounts/oidc/" not in html
    assert "Sign in with" not in html


def test_with_sso_configured_people_can_connect_their_company_account(
    sso_on: None, alice: User, client_for: Any
) -> None:
    html = client_for(alice).get(reverse("socialaccount_connections")).content.decode()

    assert 'aria-current="page">Company sign-in</a>' in html
    login_url = reverse("openid_connect_login", kwargs={"provider_id": "company"})
    assert f'href="{login_url}?process=connect">Connect your Example Corp account</a>' in html


def test_with_sso_configured_allauth_knows_the_provider(sso_on: None) -> None:
    request = RequestFactory().get("/")

    provider = get_adapter().get_provider(request, "company")

    assert provider.name == "Example Corp"
    assert provider.app.client_id == "social-crm"
    assert provider.server_url == "https://id.example.com/realms/staff/.well-known/openid-configuration"


# --- the adapter: invite-only ---------------------------------------------------------------------


def sociallogin_for(email: str) -> SocialLogin:
    user = User(email=email)
    account = SocialAccount(provider="company", uid="subject-1")
    return SocialLogin(user=user, account=account, email_addresses=[EmailAddress(email=email, verified=True)])


def test_sso_cannot_create_an_account_without_an_invitation(team: Team) -> None:
    InvitationFactory(email="someone.else@staff.example", team=team)

    allowed = get_adapter().is_open_for_signup(RequestFactory().get("/"), sociallogin_for("nora@staff.example"))

    assert allowed is False


def test_sso_may_create_an_account_for_an_invited_address(team: Team) -> None:
    InvitationFactory(email="nora@staff.example", team=team)

    allowed = get_adapter().is_open_for_signup(RequestFactory().get("/"), sociallogin_for("Nora@Staff.example"))

    assert allowed is True


def test_an_expired_or_used_invitation_does_not_open_sso_sign_up(team: Team) -> None:
    InvitationFactory(email="old@staff.example", team=team, expires_at=timezone.now())
    InvitationFactory(email="used@staff.example", team=team, accepted_at=timezone.now())
    adapter = get_adapter()

    for email in ("old@staff.example", "used@staff.example", ""):
        assert adapter.is_open_for_signup(RequestFactory().get("/"), sociallogin_for(email)) is False


# --- the whole sign-in against an identity provider on loopback ---------------------------------------


class IdentityProvider(ThreadingHTTPServer):
    """Just enough OpenID Connect: discovery, the token endpoint and userinfo."""

    userinfo: dict[str, Any]
    token_requests: list[dict[str, list[str]]]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: IdentityProvider

    def _json(self, payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        base = self.server.base_url
        if self.path == "/.well-known/openid-configuration":
            self._json(
                {
                    "issuer": base,
                    "authorization_endpoint": f"{base}/authorize",
                    "token_endpoint": f"{base}/token",
                    "userinfo_endpoint": f"{base}/userinfo",
                    "token_endpoint_auth_methods_supported": ["client_secret_post"],
                }
            )
        elif self.path == "/userinfo" and self.headers["Authorization"] == "Bearer access-1":
            self._json(self.server.userinfo)
        else:
            self.send_error(404)

    def do_POST(self) -> None:
        form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
        self.server.token_requests.append(form)
        if self.path == "/token" and form.get("code") == ["code-1"]:
            self._json({"access_token": "access-1", "token_type": "Bearer", "expires_in": 300})
        else:
            self.send_error(400)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def idp(settings: Any) -> Iterator[IdentityProvider]:
    server = IdentityProvider(("127.0.0.1", 0), _Handler)
    server.userinfo = {}
    server.token_requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.SOCIALACCOUNT_PROVIDERS = socialaccount_providers(environ={**OIDC_ENV, "OIDC_SERVER_URL": server.base_url})
    yield server
    server.shutdown()
    server.server_close()


def sso_sign_in(client: Client, idp: IdentityProvider, **claims: Any) -> Any:
    """Start at the SSO button, come back from the provider with a code; return the last answer."""
    idp.userinfo = {"sub": "subject-1", **claims}
    started = client.post(reverse("openid_connect_login", kwargs={"provider_id": "company"}))
    assert started.status_code == 302
    authorize = urlsplit(started["Location"])
    assert f"{authorize.scheme}://{authorize.netloc}{authorize.path}" == f"{idp.base_url}/authorize"
    query = parse_qs(authorize.query)
    assert query["code_challenge_method"] == ["S256"]
    callback = reverse("openid_connect_callback", kwargs={"provider_id": "company"})
    return client.get(callback, {"code": "code-1", "state": query["state"][0]})


def signed_in_user(client: Client) -> User | None:
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id) if user_id else None


def test_sso_creates_the_invited_account_with_its_role_and_team(idp: IdentityProvider, team: Team) -> None:
    invitation = InvitationFactory(email="nora@staff.example", role=Role.MANAGER.value, team=team)
    client = Client()

    response = sso_sign_in(
        client, idp, email="nora@staff.example", email_verified=True, given_name="Nora", family_name="New"
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    user = signed_in_user(client)
    assert user is not None
    assert (user.email, user.first_name, user.last_name) == ("nora@staff.example", "Nora", "New")
    assert not user.has_usable_password()
    assert has_role(user, Role.MANAGER)
    assert list(user.managed_teams.all()) == [team]
    assert EmailAddress.objects.get(user=user).verified
    invitation.refresh_from_db()
    assert invitation.accepted_user == user
    # PKCE: the code was exchanged together with its verifier.
    assert idp.token_requests[0]["code_verifier"]


def test_sso_without_an_invitation_shows_the_invite_only_page(idp: IdentityProvider, db: None) -> None:
    client = Client()

    response = sso_sign_in(client, idp, email="eve@staff.example", email_verified=True)

    assert response.status_code == 200
    assert "Social CRM is invite-only" in response.content.decode()
    assert signed_in_user(client) is None
    assert not User.objects.filter(email="eve@staff.example").exists()


def test_sso_signs_an_existing_person_in_by_verified_email(idp: IdentityProvider, alice: User) -> None:
    client = Client()

    response = sso_sign_in(client, idp, email="alice@staff.example", email_verified=True)

    assert response.status_code == 302
    assert signed_in_user(client) == alice
    assert SocialAccount.objects.get(provider="company").user == alice
    assert User.objects.count() == 1


def test_sso_with_an_unverified_email_does_not_take_over_an_account(idp: IdentityProvider, alice: User) -> None:
    client = Client()

    sso_sign_in(client, idp, email="alice@staff.example", email_verified=False)

    assert signed_in_user(client) is None
    assert not SocialAccount.objects.exists()
    assert not Invitation.objects.exists()
