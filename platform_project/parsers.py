import json

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class StrictJSONParser(JSONParser):
    """DRF's JSON parser, turning two more kinds of bad input into 400 instead of 500.

    - Nesting deep enough to exhaust the recursion limit (RecursionError, not a ValueError).
    - Lone UTF-16 surrogates (`"\\ud800"`): valid JSON escapes, but no UTF-8 encoding exists
      for them, so they would fail later when echoed in an error or written to MySQL.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply.") from None
        try:
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise ParseError("JSON parse error - invalid unicode (lone surrogate).") from None
        return data
