import pytest


@pytest.fixture(autouse=True)
def _account_email_in_the_request(settings):
    # Mail is sent on the request's thread in these tests, so the outbox can be read right after
    # the on-commit callbacks ran. test_email_smtp covers the background sender.
    settings.ACCOUNT_EMAIL_IN_BACKGROUND = False
