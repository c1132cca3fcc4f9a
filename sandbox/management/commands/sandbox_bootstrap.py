"""Create (once) the demo account's license key and agent key pair, and register them."""

import os
import secrets

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.core.management.base import BaseCommand

from sandbox import runtime
from sandbox.models import Account


class Command(BaseCommand):
    help = "Write the demo license key and RSA key pair (if missing) and register them in the sandbox."

    def handle(self, *args, **options):
        keys = settings.SANDBOX_KEYS_DIR
        keys.mkdir(parents=True, exist_ok=True)
        license_file, private_file, public_file = (
            keys / "license_key.txt", keys / "agent_private_key.pem", keys / "agent_public_key.pem")
        if not license_file.exists():
            license_file.write_text(f"demo-{secrets.token_hex(5)}\n")
        if not private_file.exists():
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
            fd = os.open(private_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(pem)
            public_file.write_bytes(key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
        license_key = license_file.read_text().strip()
        public_pem = public_file.read_text()
        account, created = Account.objects.get_or_create(
            license_key=license_key, defaults={"public_keys": [public_pem], "created": runtime.now()})
        if public_pem not in account.public_keys:
            account.public_keys = [*account.public_keys, public_pem]
            account.save(update_fields=["public_keys"])
        self.stdout.write(f"Sandbox demo account {license_key} ({'created' if created else 'ready'}); keys in {keys}")
