"""allauth adapters: the CRM is invite-only, also through company SSO."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.db import transaction
from django.http import HttpRequest

from socialcrm.models import User
from socialcrm.selectors import invitation_open_for_email
from socialcrm.services import invitation_accept_by_sso


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        """Nobody signs up on their own; people join through an invitation."""
        return False


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """Company SSO signs in existing people (matched by verified email, see settings) and
    creates an account only for an email address that holds an open invitation."""

    def is_open_for_signup(self, request: HttpRequest, sociallogin: Any) -> bool:
        email = (sociallogin.user.email or "").strip()
        return bool(email) and invitation_open_for_email(email=email) is not None

    @transaction.atomic
    def save_user(self, request: HttpRequest, sociallogin: Any, form: Any = None) -> User:
        """Create the account, then give it the invitation's role and team."""
        user: User = super().save_user(request, sociallogin, form)
        invitation_accept_by_sso(user=user)
        return user
