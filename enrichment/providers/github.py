"""GitHub: users by a known login, or (when enabled) by their public email address."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings

from enrichment.findings import Finding, Handle, Subject
from enrichment.http import Client, NotFound

LOGIN = re.compile(r"^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){0,38}$", re.IGNORECASE)
SCHEME = re.compile(r"^[a-z][a-z0-9+.\-]*:(?!\d)", re.IGNORECASE)
CONFIDENCE_HANDLE = 0.8
CONFIDENCE_EMAIL = 0.7  # GitHub matched a public email; still one step removed


def github_login(handle: Handle) -> str:
    """The login in ``github:ada``, a ``github``-labelled ``@ada``, or ``https://github.com/ada``."""
    value = handle.normalized
    host, path = handle.url_parts()
    if host:
        segments = [s for s in path.split("/") if s]
        login = segments[0] if host in ("github.com", "www.github.com") and len(segments) == 1 else ""
    elif value.lower().startswith("github:"):
        login = value[len("github:") :].strip().lstrip("@")
    elif handle.label.strip().lower() == "github":
        login = value.lstrip("@")
    else:
        login = ""
    return login if LOGIN.match(login) else ""


def user_finding(data: dict[str, Any], *, source_url: str, confidence: float) -> Finding:
    """A finding from a ``GET /users/{login}`` body."""
    blog = str(data.get("blog") or "").strip()
    # GitHub lets people type "ada.example"; anything with a scheme (javascript:...) is left
    # for safe_url to judge.
    if blog and not SCHEME.match(blog):
        blog = f"https://{blog}"
    company = str(data.get("company") or "").strip()
    links = [blog]
    # "@example-ltd" names a GitHub organization.
    if company.startswith("@") and LOGIN.match(company[1:]):
        company = company[1:]
        links.append(f"https://github.com/{company}")
    return Finding(
        network="github",
        provider=GitHubProvider.name,
        url=data.get("html_url", ""),
        handle=data.get("login", ""),
        display_name=data.get("name") or "",
        avatar_url=data.get("avatar_url", ""),
        bio=data.get("bio") or "",
        location=data.get("location") or "",
        company=company,
        links=links,
        verified_links=[blog],
        source_url=source_url,
        confidence=confidence,
    )


class GitHubProvider:
    name = "github"

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
        if settings.GITHUB_TOKEN:
            headers["Authorization"] = f"Bearer {settings.GITHUB_TOKEN}"
        return headers

    def _user(self, login: str, client: Client, confidence: float) -> Finding | None:
        url = f"{settings.ENRICHMENT_GITHUB_API_URL}/users/{login}"
        try:
            data = client.get_json(url, headers=self._headers())
        except NotFound:
            return None
        if not isinstance(data, dict) or data.get("type") != "User":
            return None
        return user_finding(data, source_url=url, confidence=confidence)

    def _search(self, email: str, client: Client) -> str:
        """The login whose public email is ``email``, if exactly one matches."""
        data = client.get_json(
            f"{settings.ENRICHMENT_GITHUB_API_URL}/search/users",
            params={"q": f"{email} in:email"},
            headers=self._headers(),
        )
        items = data.get("items") if isinstance(data, dict) else None
        if not isinstance(items, list) or len(items) != 1 or not isinstance(items[0], dict):
            return ""
        login = str(items[0].get("login", ""))
        return login if LOGIN.match(login) else ""

    def find(self, subject: Subject, client: Client) -> list[Finding]:
        logins = {login.lower(): CONFIDENCE_HANDLE for login in map(github_login, subject.handles) if login}
        if settings.ENRICHMENT_GITHUB_EMAIL_SEARCH:
            for email in dict.fromkeys(e.strip().lower() for e in subject.emails if "@" in e):
                login = self._search(email, client).lower()
                if login:
                    logins.setdefault(login, CONFIDENCE_EMAIL)
        findings = [self._user(login, client, confidence) for login, confidence in logins.items()]
        return [finding for finding in findings if finding is not None]
