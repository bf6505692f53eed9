"""Normalization of contact methods: what matching, dedupe and suppression compare."""

from __future__ import annotations

import functools

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email


def normalize_email(value: str) -> str:
    """Lower-case the address and IDNA-encode its domain; raise ValidationError if invalid."""
    value = value.strip()
    local, sep, domain = value.rpartition("@")
    if not sep or not local or not domain:
        raise ValidationError("Enter a valid email address, like name@example.com.")
    normalized = f"{local}@{_email_domain(domain)}".lower()
    validate_email(normalized)
    return normalized


@functools.lru_cache(maxsize=4096)
def _email_domain(domain: str) -> str:
    """An email's domain IDNA-encoded, remembered: an import's addresses share few domains.
    Invalid domains raise each time (exceptions are not cached).
    """
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise ValidationError("The domain of this email address is not valid.") from exc


def normalize_phone(value: str, default_region: str | None = None) -> str:
    """E.164 where ``phonenumbers`` can parse it; otherwise the digits and a leading +.

    Numbers without a country code are read in ``default_region`` (the
    ``PHONE_DEFAULT_REGION`` setting unless given), e.g. "020 7946 0018" in GB.
    """
    return _normalized_phone(value.strip(), default_region or settings.PHONE_DEFAULT_REGION or None)


@functools.lru_cache(maxsize=65_536)
def _normalized_phone(value: str, region: str | None) -> str:
    """``normalize_phone`` of a stripped value in a region, remembered: parsing is most of an
    import's per-row cost (~20 µs a number), and a file often repeats numbers (switchboards,
    a company's main line). Invalid values raise each time (exceptions are not cached).
    """
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is not None and phonenumbers.is_possible_number(number):
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    digits = "".join(ch for ch in value if ch.isdigit())
    if len(digits) < 5:
        raise ValidationError("Enter a phone number with at least five digits.")
    return ("+" if value.startswith("+") else "") + digits


def normalize_website(value: str) -> str:
    value = value.strip()
    if "://" not in value:
        value = f"https://{value}"
    URLValidator(schemes=["http", "https"])(value)
    scheme, rest = value.split("://", 1)
    host, slash, path = rest.partition("/")
    return f"{scheme.lower()}://{host.lower()}{slash}{path}".rstrip("/")


def normalize_handle(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValidationError("Enter a handle.")
    return value.lower()


_NORMALIZERS = {
    "email": normalize_email,
    "phone": normalize_phone,
    "website": normalize_website,
    "handle": normalize_handle,
}


def normalize_method(kind: str, value: str) -> str:
    """The normalized form of a contact method of ``kind``; raise ValidationError if invalid."""
    return _NORMALIZERS[kind](value)


def normalize_domain(value: str) -> str:
    """A bare domain, lower-cased and IDNA-encoded ("Bücher.Example" -> "xn--bcher-kva.example")."""
    value = value.strip().rstrip(".")
    try:
        ascii_domain = value.encode("idna").decode("ascii").lower()
    except UnicodeError as exc:
        raise ValidationError("Enter a domain like example.com.") from exc
    if "/" in ascii_domain or ":" in ascii_domain or "." not in ascii_domain:
        raise ValidationError("Enter a domain like example.com.")
    try:
        URLValidator(schemes=["https"])(f"https://{ascii_domain}")
    except ValidationError as exc:
        raise ValidationError("Enter a domain like example.com.") from exc
    return ascii_domain
