"""The purpose catalogue as first seeded; the DPO edits descriptions, bases and retention afterwards.

Seeded by the data migration, and again by a post_migrate receiver for any purpose that is
missing (a database flush in tests removes them); existing rows are never overwritten.
"""

from __future__ import annotations

from typing import Any

PURPOSES: list[dict[str, Any]] = [
    {
        "code": "sales_outreach",
        "name": "Sales outreach",
        "description": "We contact you about our products and services in the course of an existing or likely business relationship.",
        "lawful_basis": "legitimate_interests",
        "retention_days": 730,
        "data_categories": ["identity", "contact details", "organization", "correspondence"],
        "business_function": "sales",
        "analytics": "",
        "is_outreach": True,
        "is_direct_marketing": True,
        "is_profiling": False,
    },
    {
        "code": "marketing_email",
        "name": "Marketing email",
        "description": "We send you newsletters and offers by email. You can withdraw at any time with one click.",
        "lawful_basis": "consent",
        "retention_days": 730,
        "data_categories": ["identity", "email address"],
        "business_function": "marketing",
        "analytics": "",
        "is_outreach": True,
        "is_direct_marketing": True,
        "is_profiling": False,
    },
    {
        "code": "enrichment",
        "name": "Profile enrichment",
        "description": "We look up what you have made public elsewhere (Gravatar, GitHub, fediverse, Bluesky, your website) to keep your details current.",
        "lawful_basis": "legitimate_interests",
        "retention_days": 365,
        "data_categories": ["public profiles", "public handles", "avatar"],
        "business_function": "",
        "analytics": "",
        "is_outreach": False,
        "is_direct_marketing": False,
        "is_profiling": False,
    },
    {
        "code": "social_listening",
        "name": "Social listening",
        "description": "We read posts you publish publicly so we can reply to questions and mentions of us.",
        "lawful_basis": "legitimate_interests",
        "retention_days": 180,
        "data_categories": ["public posts", "public handles"],
        "business_function": "customer_service",
        "analytics": "",
        "is_outreach": False,
        "is_direct_marketing": False,
        "is_profiling": False,
    },
    {
        "code": "sentiment_analysis",
        "name": "Sentiment analysis",
        "description": "We estimate whether your public posts about us are positive or negative.",
        "lawful_basis": "consent",
        "retention_days": 180,
        "data_categories": ["public posts"],
        "business_function": "",
        "analytics": "sentiment",
        "is_outreach": False,
        "is_direct_marketing": False,
        "is_profiling": True,
    },
    {
        "code": "offer_targeting",
        "name": "Offer targeting",
        "description": "We use your history with us to choose which offers to show you.",
        "lawful_basis": "consent",
        "retention_days": 365,
        "data_categories": ["correspondence", "purchase history", "public posts"],
        "business_function": "marketing",
        "analytics": "offer_targeting",
        "is_outreach": False,
        "is_direct_marketing": True,
        "is_profiling": True,
    },
    {
        "code": "influence_measurement",
        "name": "Influence measurement",
        "description": "We estimate how widely your public posts about us are seen.",
        "lawful_basis": "legitimate_interests",
        "retention_days": 180,
        "data_categories": ["public posts", "public follower counts"],
        "business_function": "marketing",
        "analytics": "influence",
        "is_outreach": False,
        "is_direct_marketing": False,
        "is_profiling": True,
    },
    {
        "code": "customer_support",
        "name": "Customer support",
        "description": "We answer your questions and help you use what you bought from us.",
        "lawful_basis": "contract",
        "retention_days": 1095,
        "data_categories": ["identity", "contact details", "correspondence"],
        "business_function": "support",
        "analytics": "",
        "is_outreach": False,
        "is_direct_marketing": False,
        "is_profiling": False,
    },
]


def seed_purposes(purpose_model: Any, *, overwrite: bool) -> None:
    """Create the catalogue's purposes; with ``overwrite``, reset existing ones to it too.

    Takes the model as an argument so the data migration can pass its historical one.
    """
    for spec in PURPOSES:
        if overwrite:
            purpose_model.objects.update_or_create(code=spec["code"], defaults=spec)
        else:
            purpose_model.objects.get_or_create(code=spec["code"], defaults=spec)
