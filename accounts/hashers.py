"""Password hashers of the accounts app.

New hashes are Argon2 (first in settings.PASSWORD_HASHERS). This module only adds a verifier for
hashes imported from the original FastAPI prototype.
"""

from django.contrib.auth.hashers import BasePasswordHasher, mask_hash
from django.utils.translation import gettext_noop as _

# bcrypt only ever reads the first 72 bytes of a password. passlib (the prototype) truncated
# silently; bcrypt >= 5 raises instead, so the verifier truncates exactly like passlib did.
BCRYPT_MAX_PASSWORD_BYTES = 72


class PrototypeBcryptPasswordHasher(BasePasswordHasher):
    """Verifies hashes imported from the FastAPI prototype (passlib bcrypt, `$2b$12$...`).

    Imported rows are stored as `prototype_bcrypt$<passlib hash>`, i.e. the prototype's hash
    untouched behind our algorithm prefix. Django's own bcrypt hashers cannot read them (their
    format is `bcrypt$<hash>` and the SHA-256 variant pre-hashes the password). `must_update` is
    always true, so `check_password` re-hashes with the default hasher (Argon2) on the first
    successful login and the prototype hash disappears.
    """

    algorithm = "prototype_bcrypt"
    library = ("bcrypt", "bcrypt")

    def encode(self, password, salt):
        raise NotImplementedError("Only for verifying imported hashes; new hashes use Argon2.")

    def salt(self):
        raise NotImplementedError("Only for verifying imported hashes; new hashes use Argon2.")

    def verify(self, password, encoded):
        algorithm, legacy = encoded.split("$", 1)
        assert algorithm == self.algorithm
        bcrypt = self._load_library()
        candidate = password.encode()[:BCRYPT_MAX_PASSWORD_BYTES]
        try:
            # checkpw compares in constant time.
            return bcrypt.checkpw(candidate, legacy.encode("ascii"))
        except ValueError:
            # A malformed imported hash never matches; it must not turn a login into a 500.
            return False

    def decode(self, encoded):
        # `prototype_bcrypt$$2b$12$<22 chars salt><31 chars checksum>`
        algorithm, _empty, algostr, work_factor, data = encoded.split("$", 4)
        assert algorithm == self.algorithm
        return {
            "algorithm": algorithm,
            "algostr": algostr,
            "work_factor": int(work_factor),
            "salt": data[:22],
            "checksum": data[22:],
        }

    def safe_summary(self, encoded):
        decoded = self.decode(encoded)
        return {
            _("algorithm"): decoded["algorithm"],
            _("work factor"): decoded["work_factor"],
            _("salt"): mask_hash(decoded["salt"]),
            _("checksum"): mask_hash(decoded["checksum"]),
        }

    def must_update(self, encoded):
        return True

    def harden_runtime(self, password, encoded):
        # Never needed: every prototype hash is replaced on its first successful login.
        pass
