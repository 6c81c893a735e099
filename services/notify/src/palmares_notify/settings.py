"""Configuration of the notify service (environment only)."""

from __future__ import annotations

from ipaddress import ip_address

from palmares_eventkit.settings import ServiceSettings
from pydantic import AliasChoices, Field, SecretStr, model_validator

from palmares_notify.render import Sender

_DEFAULT = Sender()


class NotifySettings(ServiceSettings):
    """Shared settings plus SMTP and the sender identity."""

    smtp_host: str = Field(default="127.0.0.1", alias="SMTP_HOST")
    smtp_port: int = Field(default=25, alias="SMTP_PORT")
    # STARTTLS upgrades the connection before AUTH and the message (certificate verified).
    smtp_starttls: bool = Field(default=False, alias="SMTP_STARTTLS")
    # Credentials over an unencrypted connection are refused unless the server is on this machine.
    smtp_allow_plaintext_auth: bool = Field(default=False, alias="SMTP_ALLOW_PLAINTEXT_AUTH")
    smtp_username: str | None = Field(default=None, alias="SMTP_USERNAME")
    smtp_password: SecretStr | None = Field(default=None, alias="SMTP_PASSWORD")
    smtp_timeout_s: float = Field(default=30.0, gt=0, alias="SMTP_TIMEOUT_S")
    mail_from: str = Field(default=_DEFAULT.address, alias="MAIL_FROM")
    mail_reply_to: str = Field(default=_DEFAULT.reply_to, alias="MAIL_REPLY_TO")
    mail_domain: str = Field(default=_DEFAULT.domain, alias="MAIL_MESSAGE_ID_DOMAIN")
    # The site's public address: the base of the dossier links of the emails.
    public_url: str = Field(
        default=_DEFAULT.public_url, validation_alias=AliasChoices("PALMARES_PUBLIC_URL", "API_URL")
    )
    # The dossier's page the letters link to ({submission_id} replaced); unset: the espace's dossier page.
    dossier_link: str = Field(default=_DEFAULT.dossier_link, alias="DOSSIER_URL")
    # Shared with the submission service: signs the dossier links (unset: the page asks the reader to sign in).
    signing_key: SecretStr | None = Field(default=None, alias="PALMARES_SIGNING_KEY")
    # Retries of a temporary SMTP failure (4xx, connection lost): exponential
    # backoff from `send_base_delay_s` capped at `send_max_delay_s`.
    send_max_attempts: int = Field(default=12, ge=1, alias="PALMARES_SEND_MAX_ATTEMPTS")
    send_base_delay_s: float = Field(default=1.0, gt=0, alias="PALMARES_SEND_BASE_DELAY_S")
    send_max_delay_s: float = Field(default=30.0, gt=0, alias="PALMARES_SEND_MAX_DELAY_S")
    # SMTP connections of a replica, shared by its two senders (`sender.SENDERS`): a sender's batch
    # goes out over its connections at once.
    send_workers: int = Field(default=8, ge=1, le=64, alias="PALMARES_SEND_WORKERS")
    # Emails a sender sends in one transaction, committed after the last server reply: the
    # statements of a delivery are shared by the batch; a crash in it resends (byte-identical)
    # what the server had accepted of it. 1: one email per transaction (the narrowest window).
    send_batch: int = Field(default=10, ge=1, le=500, alias="PALMARES_SEND_BATCH")
    # A batch takes no further email once it has lasted this long: a slow SMTP server (300 ms a reply)
    # would otherwise hold a batch's accepted emails uncommitted for seconds.
    send_batch_window_ms: float = Field(default=50, ge=0, le=10_000, alias="PALMARES_SEND_BATCH_WINDOW_MS")

    @model_validator(mode="after")
    def _check(self) -> NotifySettings:
        self.sender()  # API_URL http(s) only, no control characters in the sender identity
        plaintext_auth = self.smtp_username and not self.smtp_starttls and not self.smtp_allow_plaintext_auth
        if plaintext_auth and not _is_loopback(self.smtp_host):
            raise ValueError(
                "SMTP_USERNAME without SMTP_STARTTLS would send the password in clear: "
                "set SMTP_STARTTLS=true (or SMTP_ALLOW_PLAINTEXT_AUTH=true on a trusted network)"
            )
        return self

    def sender(self) -> Sender:
        return Sender(
            address=self.mail_from,
            reply_to=self.mail_reply_to,
            domain=self.mail_domain,
            public_url=self.public_url,
            dossier_link=self.dossier_link,
            link_key=self.signing_key.get_secret_value() if self.signing_key else None,
        )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False
