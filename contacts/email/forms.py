"""Forms of the email pages: they parse and validate only."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat

from contacts.email.imap import server_addresses
from contacts.normalize import normalize_email
from socialcrm.netpolicy import DestinationRefused, PrivateAddress, UnresolvableHost


class EmailUploadForm(forms.Form):
    file = forms.FileField(
        label="Email file",
        help_text="One message (.eml) or a whole mailbox (.mbox), as your mail program exports it.",
        widget=forms.ClearableFileInput(attrs={"accept": ".eml,.mbox,message/rfc822,application/mbox"}),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        limit = settings.EMAIL_MAX_UPLOAD_BYTES
        if upload.size > limit:
            raise ValidationError(f"This file is larger than {filesizeformat(limit)}; split the mailbox and try again.")
        return upload


PLAINTEXT_REFUSED = (
    "Choose SSL/TLS or STARTTLS: plain IMAP would send your password and mail across the network unencrypted."
)


class MailboxConnectionForm(forms.Form):
    IMAPS, STARTTLS = "ssl", "starttls"

    host = forms.CharField(max_length=253, help_text="Your provider's IMAP server, e.g. imap.example.com.")
    port = forms.IntegerField(min_value=1, max_value=65535, initial=993)
    security = forms.ChoiceField(
        label="Encryption",
        choices=[(IMAPS, "SSL/TLS (usually port 993)"), (STARTTLS, "STARTTLS (usually port 143)")],
        initial=IMAPS,
        widget=forms.RadioSelect,
        error_messages={"required": PLAINTEXT_REFUSED, "invalid_choice": PLAINTEXT_REFUSED},
    )
    username = forms.CharField(max_length=320, help_text="Usually your email address.")
    password = forms.CharField(
        label="App password",
        widget=forms.PasswordInput(render_value=False),
        max_length=500,
        help_text="An app password made for this CRM, not your main password. It is stored encrypted.",
    )

    def clean_host(self) -> str:
        host: str = self.cleaned_data["host"].strip().lower()
        if not host or any(char in host for char in " /:@"):
            raise ValidationError("Enter a host name such as imap.example.com, without a scheme or port.")
        return host

    def clean(self) -> dict[str, Any]:
        """The server must be one the sync may reach (the check is repeated at each connect)."""
        data = super().clean() or {}
        if "host" in data and "port" in data:
            try:
                server_addresses(data["host"], data["port"])
            except UnresolvableHost:
                self.add_error("host", "This host name cannot be found: check its spelling.")
            except PrivateAddress:
                self.add_error(
                    "host",
                    "This server is on a private or reserved network: the CRM connects to mail servers "
                    "on the internet only.",
                )
            except DestinationRefused as exc:
                self.add_error("port", f"Use the IMAP port of your provider: {exc}.")
        return data

    def connection_settings(self) -> dict[str, Any]:
        """What ``mailbox_connect`` takes."""
        data = self.cleaned_data
        return {
            "host": data["host"],
            "port": data["port"],
            "use_ssl": data["security"] == self.IMAPS,
            "username": data["username"],
            "password": data["password"],
        }


class TeamMailSettingsForm(forms.Form):
    own_domains = forms.CharField(
        required=False,
        max_length=2000,
        label="Our email domains",
        help_text="Mail from these domains is logged as outbound. Separate them with commas.",
    )

    def clean_own_domains(self) -> list[str]:
        domains = []
        for item in self.cleaned_data["own_domains"].replace("\n", ",").split(","):
            domain = item.strip().lower().lstrip("@")
            if not domain:
                continue
            try:
                domains.append(normalize_email(f"postmaster@{domain}").partition("@")[2])
            except ValidationError as exc:
                raise ValidationError(f"{domain!r} is not a domain name.") from exc
        return sorted(set(domains))
