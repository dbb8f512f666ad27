import pytest

from shared.rules.referrals import Person, RefusalReason, mailbox, refusal_reason


def person(member_id: int, email: str | None = None, *identities: tuple[str, str]) -> Person:
    return Person(member_id, email, frozenset(identities))


@pytest.mark.parametrize(("address", "box"), [
    ("ada@example.org", "ada@example.org"),
    (" Ada+hearth@Example.org ", "ada@example.org"),
    ("ada.l@example.org", "ada.l@example.org"),
    ("Ada.L+x@GoogleMail.com", "adal@gmail.com"),
])
def test_mailbox(address, box):
    assert mailbox(address) == box


def test_a_friend_is_paid_for():
    assert refusal_reason(person(1, "ada@example.org", ("github", "ada")),
                          person(2, "chi@example.org", ("github", "chi"))) is None


def test_refusals():
    ada = person(1, "ada@example.org", ("github", "AdaL"))
    assert refusal_reason(ada, ada) == RefusalReason.self_referral
    assert refusal_reason(ada, person(2, "ADA+2@example.org")) == RefusalReason.shared_email
    assert refusal_reason(ada, person(3, None, ("GitHub", "adal"))) == \
        RefusalReason.shared_identity
    # The same handle on another service is somebody else.
    assert refusal_reason(ada, person(4, None, ("gitlab", "adal"))) is None


def test_erased_emails_are_not_shared():
    assert refusal_reason(person(1, None), person(2, None)) is None
