import helpdesk.chat.models
import helpdesk.secret_store
from django.db import migrations


# The plain secrets are sealed under the first FIELD_ENCRYPTION_KEYS key; undone, they are unsealed
# again (one that no key opens gets a fresh random secret: it could not verify identities anyway).
def seal_plain_secrets(apps, schema_editor):
    ChatSite = apps.get_model("chat", "ChatSite")
    for pk, plain in ChatSite.objects.values_list("pk", "secret"):
        ChatSite.objects.filter(pk=pk).update(sealed_secret=helpdesk.secret_store.seal(plain))


def unseal_to_plain_secrets(apps, schema_editor):
    ChatSite = apps.get_model("chat", "ChatSite")
    for pk, token in ChatSite.objects.values_list("pk", "sealed_secret"):
        try:
            plain = helpdesk.secret_store.unseal(token)
        except helpdesk.secret_store.SecretUnavailable:
            plain = helpdesk.chat.models.new_secret()
        ChatSite.objects.filter(pk=pk).update(secret=plain)


class Migration(migrations.Migration):

    dependencies = [
        ('chat', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='chatsite',
            name='sealed_secret',
            field=helpdesk.secret_store.SealedField(default='', editable=False),
        ),
        migrations.RunPython(seal_plain_secrets, unseal_to_plain_secrets),
        migrations.RemoveField(
            model_name='chatsite',
            name='secret',
        ),
        migrations.AlterField(
            model_name='chatsite',
            name='sealed_secret',
            field=helpdesk.secret_store.SealedField(default=helpdesk.chat.models.new_sealed_secret, editable=False),
        ),
    ]
