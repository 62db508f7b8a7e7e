import factory

from accounts.tests.factories import UserFactory
from chat.models import ChannelMembership, ChannelType, ChatChannel, ChatMessage
from subscriptions.tests.factories import PlanFactory


class CourseChannelFactory(factory.django.DjangoModelFactory):
    """A course channel row for a plan. Builds rows only: no memberships, no messages."""

    class Meta:
        model = ChatChannel

    class Params:
        plan = factory.SubFactory(PlanFactory)

    channel_type = ChannelType.COURSE
    related_id = factory.LazyAttribute(lambda c: c.plan.pk)
    professional = factory.LazyAttribute(lambda c: c.plan.professional)
    name = factory.LazyAttribute(lambda c: c.plan.name)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChannelMembership

    channel = factory.SubFactory(CourseChannelFactory)
    user = factory.SubFactory(UserFactory)


class MessageFactory(factory.django.DjangoModelFactory):
    """A message row. `seq` must be given (use chat.services.message_post for real posting)."""

    class Meta:
        model = ChatMessage

    channel = factory.SubFactory(CourseChannelFactory)
    sender = factory.SubFactory(UserFactory)
    seq = factory.Sequence(lambda n: n + 1)
    content = factory.Sequence(lambda n: f"Message {n}")
