import factory

from content.models import ProContent
from subscriptions.tests.factories import PlanFactory


class ProContentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProContent

    plan = factory.SubFactory(PlanFactory)
    professional = factory.LazyAttribute(lambda c: c.plan.professional)
    title = factory.Sequence(lambda n: f"Lesson {n}")
    summary = "What this lesson covers."
    full_content = factory.Sequence(lambda n: f"The paid body of lesson {n}.")
    is_published = True
