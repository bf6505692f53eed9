"""allauth adapters: the CRM is invite-only."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.http import HttpRequest


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        """Nobody signs up on their own; people join through an invitation."""
        return False


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest, sociallogin: Any) -> bool:
        """Company SSO may create an account only for an email that holds an open invitation."""
        from socialcrm.services import invitation_open_for_email

        email = (sociallogin.user.email or "").strip().lower()
        return bool(email) and invitation_open_for_email(email=email) is not None
