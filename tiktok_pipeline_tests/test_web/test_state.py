"""The consent link's state: signed with a key derived from the secret, expiring, single-use."""

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


def test_a_fresh_state_is_accepted_once() -> None:
    signer = StateSigner("secret", clock=Clock())
    state = signer.issue()

    claims = signer.verify(state)

    assert claims.issued_at == int(NOW)
    with pytest.raises(InvalidState, match="already used") as excinfo:
        signer.verify(state)
    assert excinfo.value.reason == "reused"


def test_states_are_unique_and_never_contain_the_secret() -> None:
    signer = StateSigner("my-app-secret")
    states = {signer.issue() for _ in range(100)}

    assert len(states) == 100
    assert not any("my-app-secret" in s for s in states)


def test_a_state_expires_after_ten_minutes() -> None:
    clock = Clock()
    signer = StateSigner("secret", clock=clock)
    fresh, stale = signer.issue(), signer.issue()

    clock.now = NOW + 600
    signer.verify(fresh)  # the last valid second
    clock.now = NOW + 601
    with pytest.raises(InvalidState, match="expired") as excinfo:
        signer.verify(stale)
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

    with pytest.raises(InvalidState) as excinfo:
        signer.verify(tamper(signer.issue()))
    assert excinfo.value.reason in ("signature", "malformed")


def test_a_state_signed_with_another_secret_is_refused() -> None:
    state = StateSigner("other-secret", clock=Clock()).issue()

    with pytest.raises(InvalidState) as excinfo:
        StateSigner("secret", clock=Clock()).verify(state)
    assert excinfo.value.reason == "signature"


@pytest.mark.parametrize("state", ["", "abc", "v1.x.y.z", "v2.1.a.b", "v1.1.a.b.c", "v1." * 100])
def test_garbage_is_refused_as_malformed(state: str) -> None:
    with pytest.raises(InvalidState) as excinfo:
        StateSigner("secret").verify(state)
    assert excinfo.value.reason == "malformed"


def test_a_state_from_the_future_is_refused() -> None:
    state = StateSigner("secret", clock=Clock(NOW + 3600)).issue()

    with pytest.raises(InvalidState, match="future"):
        StateSigner("secret", clock=Clock()).verify(state)


def test_without_one_time_use_a_state_may_be_checked_again() -> None:
    signer = StateSigner("secret", one_time=False, clock=Clock())
    state = signer.issue()

    assert signer.verify(state) == signer.verify(state)
