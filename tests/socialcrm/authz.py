"""Authorization table for the project's own pages and the account pages (allauth)."""

from __future__ import annotations

from typing import Any

from tests.authz import (
    FORBIDDEN,
    LOGIN,
    NOT_FOUND,
    OK,
    REDIRECT,
    UNAUTHORIZED,
    Access,
    public,
    roles,
    signed_in,
    staff_only,
)


def _invitation_token(world: Any) -> dict[str, Any]:
    from tests.factories import InvitationFactory

    return {"token": InvitationFactory(team=world.fixture("team")).token}


URLS: dict[str, Access] = {
    "home": staff_only(),
    "team:invitations": roles(LOGIN, FORBIDDEN, OK, FORBIDDEN, OK),
    "team:accept_invitation": public(OK, kwargs=_invitation_token),
    # The audit viewer: DPOs and admins only.
    "audit:events": roles(LOGIN, FORBIDDEN, FORBIDDEN, OK, OK),
    # allauth: signed-in people are sent on from the sign-in pages; account pages need a session.
    "account_login": public(OK, signed_in_expect=REDIRECT),
    "account_logout": public(REDIRECT, signed_in_expect=OK),
    "account_inactive": public(OK),
    "account_signup": public(OK, signed_in_expect=REDIRECT),
    "account_reauthenticate": signed_in(OK),
    "account_email": signed_in(OK),
    "account_email_verification_sent": public(OK, signed_in_expect=OK),
    "account_change_password": signed_in(OK),
    "account_set_password": signed_in(REDIRECT),
    "account_reset_password": public(OK),
    "account_confirm_login_code": public(REDIRECT, signed_in_expect=REDIRECT),
    "account_confirm_email": public(OK, kwargs=lambda world: {"key": "not-a-real-key"}),
    "account_reset_password_from_key_done": public(OK),
    "account_reset_password_from_key": public(OK, kwargs=lambda world: {"uidb36": "0", "key": "not-a-real-key"}),
    "account_reset_password_done": public(OK),
    "mfa_index": signed_in(OK),
    "mfa_authenticate": public(REDIRECT, signed_in_expect=REDIRECT),
    "mfa_reauthenticate": signed_in(REDIRECT),
    "mfa_activate_totp": signed_in(REDIRECT),
    "mfa_deactivate_totp": signed_in(NOT_FOUND),
    "mfa_view_recovery_codes": signed_in(NOT_FOUND),
    "mfa_generate_recovery_codes": signed_in(REDIRECT),
    "mfa_download_recovery_codes": signed_in(NOT_FOUND),
    "socialaccount_login_cancelled": public(OK),
    "socialaccount_login_error": public(UNAUTHORIZED),
    "socialaccount_signup": public(REDIRECT),
    "socialaccount_connections": signed_in(OK),
    "openid_connect_login": public(NOT_FOUND, kwargs=lambda world: {"provider_id": "company"}),
    "openid_connect_callback": public(NOT_FOUND, kwargs=lambda world: {"provider_id": "company"}),
}
