"""When a referral is refused: the referrer is the referred member, or the two share a mailbox
or an account elsewhere. Member emails and identities are unique as stored, so the comparison
normalises them the way the services behind them do (plus-addressing, Gmail's dots, handles that
differ only in case): the same person under two records is still the same person."""

from dataclasses import dataclass
from enum import StrEnum

_DOTLESS_DOMAINS = {"gmail.com": "gmail.com", "googlemail.com": "gmail.com"}


class RefusalReason(StrEnum):
    self_referral = "self_referral"
    shared_email = "shared_email"
    shared_identity = "shared_identity"


@dataclass(frozen=True)
class Person:
    member_id: int
    email: str | None
    identities: frozenset[tuple[str, str]]  # (provider, external_id)


def mailbox(email: str) -> str:
    """The mailbox an address delivers to: `Ada.L+hearth@GoogleMail.com` -> `adal@gmail.com`."""
    local, _, domain = email.strip().lower().rpartition("@")
    local = local.split("+", 1)[0]
    if domain in _DOTLESS_DOMAINS:
        local, domain = local.replace(".", ""), _DOTLESS_DOMAINS[domain]
    return f"{local}@{domain}"


def _accounts(person: Person) -> set[tuple[str, str]]:
    return {(provider.lower(), external_id.strip().lower())
            for provider, external_id in person.identities}


def refusal_reason(referrer: Person, referred: Person) -> RefusalReason | None:
    if referrer.member_id == referred.member_id:
        return RefusalReason.self_referral
    if referrer.email and referred.email and mailbox(referrer.email) == mailbox(referred.email):
        return RefusalReason.shared_email
    if _accounts(referrer) & _accounts(referred):
        return RefusalReason.shared_identity
    return None
