class IdConverter:
    """Database ids: digits that fit a signed 64-bit column.

    Anything longer never matches, so an overflowing id is a 404 rather than a database error.
    """

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)
