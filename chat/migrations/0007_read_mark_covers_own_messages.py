from django.db import migrations
from django.db.models import F, Max, Min
from django.db.models.functions import Greatest

BATCH = 10_000


def raise_read_marks(apps, schema_editor):
    # The new invariant: a member's read mark is at least their newest own message.
    # `last_posted_seq` was at least that, so raising the mark to it is enough. In batches of
    # ids: on MySQL each batch commits on its own, and posts wait for one batch's locks at most.
    ChannelMembership = apps.get_model("chat", "ChannelMembership")
    memberships = ChannelMembership.objects.using(schema_editor.connection.alias)
    bounds = memberships.aggregate(low=Min("pk"), high=Max("pk"))
    if bounds["low"] is None:
        return
    for start in range(bounds["low"], bounds["high"] + 1, BATCH):
        memberships.filter(
            pk__gte=start, pk__lt=start + BATCH, last_posted_seq__gt=F("last_read_seq")
        ).update(last_read_seq=Greatest("last_read_seq", "last_posted_seq"))


class Migration(migrations.Migration):
    dependencies = [
        ("chat", "0006_membership_last_posted_seq"),
    ]

    operations = [
        migrations.RunPython(raise_read_marks, migrations.RunPython.noop),
        migrations.RemoveField(model_name="channelmembership", name="last_posted_seq"),
    ]
