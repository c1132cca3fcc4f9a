"""Re-encrypt every stored secret under the first key of FIELD_ENCRYPTION_KEYS.

Put a new key in front of the list, deploy, run this, then drop the old key. A value that no key
opens is named by its id (never its content) and left as it is; the command then exits non-zero.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from helpdesk import secret_store


class Command(BaseCommand):
    help = "Re-encrypt every stored secret (webhook secrets, chat site secrets, signing keys) under the first FIELD_ENCRYPTION_KEYS key."

    def handle(self, *args, **options):
        unreadable = []
        with transaction.atomic():
            for model, field in secret_store.sealed_fields():
                rotated = failed = 0
                rows = model.objects.select_for_update().order_by("pk").values_list("pk", field)
                for pk, token in rows:
                    try:
                        sealed = secret_store.reseal(token)
                    except secret_store.SecretUnavailable:
                        unreadable.append(f"{model._meta.label}.{field} id={pk}")
                        failed += 1
                        continue
                    model.objects.filter(pk=pk).update(**{field: sealed})
                    rotated += 1
                self.stdout.write(f"{model._meta.label}.{field}: {rotated} re-encrypted"
                                  + (f", {failed} cannot be decrypted" if failed else ""))
        if unreadable:
            for name in unreadable:
                self.stderr.write(f"Cannot be decrypted with any key, left as it is: {name}")
            raise CommandError(f"{len(unreadable)} stored secret(s) cannot be decrypted with any key in "
                               "FIELD_ENCRYPTION_KEYS; the others were re-encrypted.")
