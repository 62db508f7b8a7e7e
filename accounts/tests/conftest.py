import pytest

from accounts.throttles import (
    EmailAddressThrottle,
    EmailChangeIPThrottle,
    EmailChangeUserThrottle,
    PasswordResetIPThrottle,
    TokenConfirmIPThrottle,
)


@pytest.fixture(autouse=True)
def _account_email_in_the_request(settings):
    # Mail is sent on the request's thread in these tests, so the outbox can be read right after
    # the on-commit callbacks ran. test_email_smtp covers the background sender.
    settings.ACCOUNT_EMAIL_IN_BACKGROUND = False


@pytest.fixture
def throttle_rates(settings, monkeypatch):
    """Sets the account-mail throttles' rates (each 1000/hour unless given); their clock is
    frozen so the wait is exact."""
    throttles = (
        EmailAddressThrottle,
        EmailChangeIPThrottle,
        EmailChangeUserThrottle,
        PasswordResetIPThrottle,
        TokenConfirmIPThrottle,
    )
    for throttle in throttles:
        monkeypatch.setattr(throttle, "timer", staticmethod(lambda: 1_000_000.0))

    def set_rates(**rates: str) -> None:
        rest_framework = dict(settings.REST_FRAMEWORK)
        rest_framework["DEFAULT_THROTTLE_RATES"] = {
            **rest_framework["DEFAULT_THROTTLE_RATES"],
            **{throttle.scope: "1000/hour" for throttle in throttles},
            **rates,
        }
        settings.REST_FRAMEWORK = rest_framework

    return set_rates
