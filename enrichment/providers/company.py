"""The company behind a work email's domain: JSON-LD Organization, OpenGraph, icons."""

from __future__ import annotations

from dataclasses import dataclass, field

from enrichment.findings import TEXT_LIMITS, Finding, Subject
from enrichment.http import Client
from enrichment.pages import Page, as_text, first
from enrichment.providers.website import ACCEPT_HTML, HTML_TYPES
from enrichment.sanitize import plain_text, safe_urls

CONFIDENCE = 0.6  # a work address says where someone works, not that the page is about them

# Mail providers anyone can sign up with: their homepage says nothing about the person.
FREE_MAIL_DOMAINS = frozenset(
    {
        "aol.com",
        "fastmail.com",
        "fastmail.fm",
        "gmail.com",
        "googlemail.com",
        "hey.com",
        "hotmail.com",
        "icloud.com",
        "live.com",
        "mac.com",
        "mail.com",
        "mail.ru",
        "me.com",
        "msn.com",
        "naver.com",
        "outlook.com",
        "pm.me",
        "proton.me",
        "protonmail.com",
        "qq.com",
        "163.com",
        "126.com",
        "rediffmail.com",
        "tuta.io",
        "tutanota.com",
        "web.de",
        "t-online.de",
        "freenet.de",
        "orange.fr",
        "laposte.net",
        "libero.it",
        "seznam.cz",
        "wp.pl",
        "o2.pl",
        "yandex.com",
        "yandex.ru",
        "ymail.com",
        "zoho.com",
        "posteo.de",
        "mailbox.org",
    }
)
# Free-mail brands with a domain per country (gmx.de, gmx.net, yahoo.co.uk, hotmail.fr, ...).
FREE_MAIL_BRANDS = frozenset({"gmx", "yahoo", "hotmail", "outlook", "live", "aol", "yandex"})


def is_free_mail(domain: str) -> bool:
    domain = domain.lower().strip(".")
    return domain in FREE_MAIL_DOMAINS or domain.split(".", 1)[0] in FREE_MAIL_BRANDS


def company_domains(emails: tuple[str, ...]) -> list[str]:
    """Distinct work domains of ``emails``, free-mail domains left out."""
    domains = (email.rpartition("@")[2].strip().lower().strip(".") for email in emails if "@" in email)
    return list(dict.fromkeys(d for d in domains if d and "." in d and not is_free_mail(d)))


@dataclass
class CompanyProfile:
    name: str = ""
    logo: str = ""
    description: str = ""
    locality: str = ""
    country: str = ""
    links: list[str] = field(default_factory=list)


def parse_company(html: str, url: str) -> CompanyProfile:
    """What a company homepage says about the company, without any network access.

    JSON-LD ``Organization`` (or a subtype) first, then OpenGraph and plain meta tags; the
    logo falls back to og:image and then the largest declared icon.
    """
    page = Page(html, url)
    org = first(page.json_ld("Organization", "Corporation", "LocalBusiness", "NGO")) or {}
    meta = page.meta()
    address = first(org.get("address")) if isinstance(org.get("address"), dict | list) else {}
    address = address if isinstance(address, dict) else {}
    same_as = org.get("sameAs")
    same_as = same_as if isinstance(same_as, list) else [same_as]
    icons = page.link_hrefs("apple-touch-icon") + page.link_hrefs("icon")
    name_limit = TEXT_LIMITS["company"]
    return CompanyProfile(
        name=plain_text(
            as_text(org.get("name")) or meta.get("og:site_name") or meta.get("og:title") or page.title(), name_limit
        ),
        logo=page.absolute(as_text(org.get("logo"), "url", "contentUrl"))
        or page.absolute(meta.get("og:image"))
        or first(icons)
        or "",
        description=plain_text(
            as_text(org.get("description")) or meta.get("og:description") or meta.get("description"), TEXT_LIMITS["bio"]
        ),
        locality=plain_text(as_text(address.get("addressLocality")), name_limit),
        country=plain_text(as_text(address.get("addressCountry"), "name"), name_limit),
        links=safe_urls([*same_as, *page.rel_me(page.microformats())], url),
    )


class CompanyProvider:
    name = "company"

    def find(self, subject: Subject, client: Client) -> list[Finding]:
        findings = []
        for domain in company_domains(subject.emails):
            fetched = client.get(f"https://{domain}/", headers={"Accept": ACCEPT_HTML})
            if fetched.content_type not in HTML_TYPES:
                continue
            profile = parse_company(fetched.text, fetched.url)
            findings.append(
                Finding(
                    network="company",
                    provider=self.name,
                    url=fetched.url,
                    display_name=profile.name,
                    company=profile.name,
                    avatar_url=profile.logo,
                    bio=profile.description,
                    location=", ".join(filter(None, (profile.locality, profile.country))),
                    links=profile.links,
                    source_url=fetched.url,
                    confidence=CONFIDENCE,
                )
            )
        return findings
