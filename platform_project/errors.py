"""Domain errors raised by services; the API layer turns them into DRF-shaped JSON.

Services stay free of HTTP concerns, but each error carries the status a client should see and a
stable machine `code` clients may branch on.
"""


class DomainError(Exception):
    status_code = 400
    default_code = "invalid"
    default_message = "The request could not be processed."

    def __init__(self, message: str | None = None, *, code: str | None = None) -> None:
        self.message = message or self.default_message
        self.code = code or self.default_code
        super().__init__(self.message)


class ValidationFailed(DomainError):
    status_code = 400
    default_code = "invalid"


class NotFound(DomainError):
    status_code = 404
    default_code = "not_found"
    default_message = "Not found."


class Forbidden(DomainError):
    status_code = 403
    default_code = "permission_denied"
    default_message = "You do not have permission to perform this action."


class Conflict(DomainError):
    status_code = 409
    default_code = "conflict"
    default_message = "The request conflicts with the current state."
