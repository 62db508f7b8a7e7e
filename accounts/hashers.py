from django.contrib.auth.hashers import BCryptPasswordHasher


class PrototypeBcryptPasswordHasher(BCryptPasswordHasher):
    """Verifies hashes imported from the FastAPI prototype (passlib bcrypt, `$2b$12$...`).

    Imported rows are stored as `prototype_bcrypt$<passlib hash>`; Django's bcrypt hasher does the
    checking, and `check_password` re-hashes them with Argon2 on the first successful login.
    """

    algorithm = "prototype_bcrypt"

    def encode(self, password, salt):
        raise NotImplementedError("Only for verifying imported hashes; new hashes use Argon2.")

    def verify(self, password, encoded):
        algorithm, legacy = encoded.split("$", 1)
        assert algorithm == self.algorithm
        return super().verify(password, "bcrypt$" + legacy)

    def decode(self, encoded):
        _, legacy = encoded.split("$", 1)
        return super().decode("bcrypt$" + legacy)

    def safe_summary(self, encoded):
        return {"algorithm": self.algorithm}

    def must_update(self, encoded):
        return True
