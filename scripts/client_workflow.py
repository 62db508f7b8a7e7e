"""A new client's first session, through the Python client generated from /schema.

Run by scripts/client_workflow.sh against a live server: a professional signs up, applies and,
once verified by an operator, creates a plan; a learner signs up, logs in, subscribes to it,
posts in its course channel and reads the channel back. Every call goes through the generated,
typed functions and models; an unexpected status or shape stops the run.

Usage: client_workflow.py <base_url> <professional|learner> [verified-professional-username]
"""

import sys
import uuid
from typing import TypeVar

from platform_client import AuthenticatedClient, Client
from platform_client.api.accounts import login, signup
from platform_client.api.chat import channel_message_create, channel_messages_list
from platform_client.api.plans import plan_create, plans_list
from platform_client.api.professionals import professional_apply
from platform_client.api.subscriptions import subscribe
from platform_client.models import (
    AccountOutput,
    AccountSignupInputRequest,
    LoginInputRequest,
    LoginOutput,
    MessageCreateInputRequest,
    MessageOutput,
    PaginatedMessageOutputList,
    PaginatedPlanOutputList,
    PaymentMethodEnum,
    PlanInputRequest,
    PlanOutput,
    ProfessionalApplyInputRequest,
    ProfessionalOutput,
    SubscribeInputRequest,
    SubscriptionOutput,
    SubscriptionStatusEnum,
)

PASSWORD = "generated-client-passphrase-7"
T = TypeVar("T")


def expect(value: object, kind: type[T]) -> T:
    if not isinstance(value, kind):
        raise SystemExit(f"expected {kind.__name__}, got {value!r}")
    return value


def sign_up_and_log_in(base_url: str, username: str) -> tuple[AuthenticatedClient, int]:
    anonymous = Client(base_url=base_url, raise_on_unexpected_status=True)
    account = expect(
        signup.sync(
            client=anonymous,
            body=AccountSignupInputRequest(
                username=username, email=f"{username}@example.com", password=PASSWORD
            ),
        ),
        AccountOutput,
    )
    session = expect(
        login.sync(client=anonymous, body=LoginInputRequest(username=username, password=PASSWORD)),
        LoginOutput,
    )
    assert session.user_id == account.user_id, (session, account)
    client = AuthenticatedClient(
        base_url=base_url, token=session.access, raise_on_unexpected_status=True
    )
    return client, session.user_id


def professional(base_url: str) -> None:
    """Sign up and apply; prints the username for the operator to verify."""
    username = f"pro_{uuid.uuid4().hex[:10]}"
    client, _ = sign_up_and_log_in(base_url, username)
    profile = expect(
        professional_apply.sync(
            client=client, body=ProfessionalApplyInputRequest(headline="Generated-client coach")
        ),
        ProfessionalOutput,
    )
    assert profile.is_verified is False, profile
    print(username)


def learner(base_url: str, professional_username: str) -> None:
    pro = AuthenticatedClient(
        base_url=base_url,
        token=expect(
            login.sync(
                client=Client(base_url=base_url, raise_on_unexpected_status=True),
                body=LoginInputRequest(username=professional_username, password=PASSWORD),
            ),
            LoginOutput,
        ).access,
        raise_on_unexpected_status=True,
    )
    plan = expect(
        plan_create.sync(client=pro, body=PlanInputRequest(name="Client plan", price="12.50")),
        PlanOutput,
    )

    client, user_id = sign_up_and_log_in(base_url, f"learner_{uuid.uuid4().hex[:10]}")
    catalogue = expect(plans_list.sync(client=client), PaginatedPlanOutputList)
    assert plan.plan_id in [p.plan_id for p in catalogue.results], catalogue

    subscription = expect(
        subscribe.sync(
            user_id,
            plan.plan_id,
            client=client,
            body=SubscribeInputRequest(
                payment_method=PaymentMethodEnum.CREDIT_CARD,
                transaction_id=f"client_{uuid.uuid4().hex}",
            ),
        ),
        SubscriptionOutput,
    )
    assert subscription.status == SubscriptionStatusEnum.ACTIVE, subscription
    channel_id = subscription.channel_id
    assert isinstance(channel_id, int), subscription

    posted = expect(
        channel_message_create.sync(
            channel_id,
            client=client,
            body=MessageCreateInputRequest(content="Hello from the generated client"),
        ),
        MessageOutput,
    )
    page = expect(channel_messages_list.sync(channel_id, client=client), PaginatedMessageOutputList)
    assert [m.message_id for m in page.results][:1] == [posted.message_id], page
    assert page.results[0].content == "Hello from the generated client"
    print(f"workflow ok: subscription {subscription.subscription_id}, message {posted.seq}")


if __name__ == "__main__":
    if sys.argv[2:3] == ["professional"]:
        professional(sys.argv[1])
    elif sys.argv[2:3] == ["learner"] and len(sys.argv) == 4:
        learner(sys.argv[1], sys.argv[3])
    else:
        raise SystemExit(__doc__)
