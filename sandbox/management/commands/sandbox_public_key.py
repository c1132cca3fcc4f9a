"""Register (or remove) an agent JWT public key on the sandbox's demo account, as an admin does in
the real service's account settings. Used when rotating the helpdesk's signing key."""

import sys

from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from sandbox.models import Account


class Command(BaseCommand):
    help = "Add a PEM public key to the demo account (or remove it with --remove). '-' reads standard input."

    def add_arguments(self, parser):
        parser.add_argument("pem_file")
        parser.add_argument("--remove", action="store_true")
        parser.add_argument("--license-key", default="")

    def handle(self, *args, pem_file, remove, license_key, **options):
        if not license_key:
            try:
                license_key = (settings.SANDBOX_KEYS_DIR / "license_key.txt").read_text().strip()
            except OSError:
                raise CommandError("No demo account yet: start the sandbox once first (make run).") from None
        account = Account.objects.filter(license_key=license_key).first()
        if account is None:
            raise CommandError(f"No sandbox account {license_key!r}: start the sandbox once first.")
        try:
            pem = sys.stdin.read() if pem_file == "-" else open(pem_file).read()
        except OSError as exc:
            raise CommandError(f"Cannot read {pem_file}: {exc.strerror}.") from None
        try:
            serialization.load_pem_public_key(pem.encode())
        except ValueError:
            raise CommandError("That is not a PEM public key.") from None
        pem = pem.strip() + "\n"
        keys = [k for k in account.public_keys if k.strip() != pem.strip()]
        account.public_keys = keys if remove else [*keys, pem]
        account.save(update_fields=["public_keys"])
        self.stdout.write(f"{'Removed from' if remove else 'Added to'} {license_key}: it has {len(account.public_keys)} public key(s).")
