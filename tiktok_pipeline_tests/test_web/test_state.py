"""The consent link's state: signed with a key derived from the secret, expiring, bound to the
browser's cookie. (That a state works once is kept in the store: see test_consent.py.)"""

from __future__ import annotations

import pytest

from tiktok_pipeline.web import InvalidState, StateSigner

NOW = 1_750_000_000.0


class Clock:
    """A settable clock."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_a_fresh_state_is_accepted_with_its_browser_binding() -> None:
    signer = StateSigner("secret", clock=Clock())
    issued = signer.issue()

    claims = signer.verify(issued.state, issued.binding)

    assert claims.issued_at == int(NOW)
    assert claims.expires_at == int(NOW) + 600
    assert claims.nonce in issued.state
    assert issued.binding not in issued.state


def test_without_the_cookie_a_state_is_refused_as_from_another_browser() -> None:
    signer = StateSigner("secret", clock=Clock())
    issued = signer.issue()

    with pytest.raises(InvalidState, match="did not start the authorization") as excinfo:
        signer.verify(issued.state, None)
    assert excinfo.value.reason == "browser"


def test_another_browsers_binding_does_not_fit() -> None:
    signer = StateSigner("secret", clock=Clock())
    mine, theirs = signer.issue(), signer.issue()

    with pytest.raises(InvalidState, match="another browser") as excinfo:
        signer.verify(mine.state, theirs.binding)
    assert excinfo.value.reason == "signature"


def test_no_state_is_refused_as_missing() -> None:
    for state in (None, ""):
        with pytest.raises(InvalidState, match="has no state") as excinfo:
            StateSigner("secret").verify(state, "binding")
        assert excinfo.value.reason == "missing"


def test_states_and_bindings_are_unique_and_never_contain_the_secret() -> None:
    signer = StateSigner("my-app-secret")
    issued = [signer.issue() for _ in range(100)]

    assert len({i.state for i in issued}) == len({i.binding for i in issued}) == 100
    assert not any("my-app-secret" in i.state + i.binding for i in issued)


def test_a_state_expires_after_ten_minutes() -> None:
    clock = Clock()
    signer = StateSigner("secret", clock=clock)
    fresh, stale = signer.issue(), signer.issue()

    clock.now = NOW + 600
    signer.verify(fresh.state, fresh.binding)  # the last valid second
    clock.now = NOW + 601
    with pytest.raises(InvalidState, match="expired") as excinfo:
        signer.verify(stale.state, stale.binding)
    assert excinfo.value.reason == "expired"


@pytest.mark.parametrize(
    "tamper",
    [
        lambda s: s[:-1] + ("A" if s[-1] != "A" else "B"),  # the MAC
        lambda s: s.replace(".", ".9", 1),  # the issue time (later, to outlive expiry)
        lambda s: ".".join([*s.split(".")[:2], "AAAAAAAAAAAAAAAAAAAAAA", s.split(".")[3]]),
    ],
)
def test_an_altered_state_is_refused(tamper) -> None:
    signer = StateSigner("secret", clock=Clock())
    issued = signer.issue()

    with pytest.raises(InvalidState) as excinfo:
        signer.verify(tamper(issued.state), issued.binding)
    assert excinfo.value.reason in ("signature", "malformed")


def test_a_state_signed_with_another_secret_is_refused() -> None:
    issued = StateSigner("other-secret", clock=Clock()).issue()

    with pytest.raises(InvalidState) as excinfo:
        StateSigner("secret", clock=Clock()).verify(issued.state, issued.binding)
    assert excinfo.value.reason == "signature"


@pytest.mark.parametrize("state", ["abc", "v2.x.y.z", "v1.1.a.b", "v2.1.a.b.c", "v2." * 100])
def test_garbage_is_refused_as_malformed(state: str) -> None:
    with pytest.raises(InvalidState) as excinfo:
        StateSigner("secret").verify(state, "binding")
    assert excinfo.value.reason == "malformed"


def test_a_state_from_the_future_is_refused() -> None:
    issued = StateSigner("secret", clock=Clock(NOW + 3600)).issue()

    with pytest.raises(InvalidState, match="future"):
        StateSigner("secret", clock=Clock()).verify(issued.state, issued.binding)
