from django.db import migrations
from django.db.models import Exists, F, OuterRef


def mark_moderated_channels(apps, schema_editor):
    # Channels whose messages were hidden before 0003 added visibility_version (default 0): the
    # unread count skips hidden messages' subquery for version 0 (never moderated).
    ChatChannel = apps.get_model("chat", "ChatChannel")
    ChatMessage = apps.get_model("chat", "ChatMessage")
    hidden = ChatMessage.objects.filter(channel_id=OuterRef("pk"), hidden_at__isnull=False)
    ChatChannel.objects.using(schema_editor.connection.alias).filter(
        Exists(hidden), visibility_version=0
    ).update(visibility_version=F("visibility_version") + 1)


class Migration(migrations.Migration):

    dependencies = [
        ("chat", "0004_channel_last_message"),
    ]

    operations = [
        migrations.RunPython(mark_moderated_channels, migrations.RunPython.noop),
    ]
