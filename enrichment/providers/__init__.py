"""The public sources enrichment asks, one module each, all behind ``enrichment.findings.Provider``."""

from __future__ import annotations

from enrichment.findings import Provider
from enrichment.providers.bluesky import BlueskyProvider
from enrichment.providers.company import CompanyProvider
from enrichment.providers.fediverse import FediverseProvider
from enrichment.providers.github import GitHubProvider
from enrichment.providers.gravatar import GravatarProvider
from enrichment.providers.website import WebsiteProvider

PROVIDERS: tuple[Provider, ...] = (
    GravatarProvider(),
    GitHubProvider(),
    FediverseProvider(),
    BlueskyProvider(),
    WebsiteProvider(),
    CompanyProvider(),
)
