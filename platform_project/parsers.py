import io
import json
import re

import orjson
from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# A run of 20 digits: a number that may not fit 64 bits (orjson would answer a float).
_LONG_NUMBER = re.compile(rb"\d{20}")


class StrictJSONParser(JSONParser):
    """JSON request bodies parsed by orjson (the renderer's library), with DRF's JSONParser's
    contract: strict JSON (no NaN or Infinity), bad input a 400 `parse_error`, never a 500.

    orjson reads the UTF-8 bytes as they arrive. The stdlib parser needed a decoding pass, then
    a second walk (`json.dumps`) to find lone UTF-16 surrogates (`"\\ud800"`: valid JSON escapes
    that no UTF-8 can encode, which would fail later when echoed or written to MySQL): ~2% of a
    message post's instructions. orjson refuses those itself, and nesting past 1,024 levels.
    Two refusals keep the wording clients had: nesting and lone surrogates.

    A body with a 20-digit run (a number orjson would turn into a float beyond 64 bits, or just
    a long digit string) goes through the stdlib parser as before, so such a number keeps every
    digit (a string field stores it as sent).
    """

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            body = stream.read()
            if encoding.lower().replace("_", "-") not in ("utf-8", "utf8"):
                body = body.decode(encoding).encode("utf-8")  # a declared charset
            if _LONG_NUMBER.search(body):
                return self._parse_exactly(body, media_type, parser_context)
            return orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            message = str(exc)
            if message.startswith("depth limit exceeded"):
                raise ParseError("JSON parse error - nested too deeply.") from None
            if "surrogate in string" in message:
                raise ParseError("JSON parse error - invalid unicode (lone surrogate).") from None
            raise ParseError(f"JSON parse error - {message}") from None
        except UnicodeEncodeError:  # a declared charset's text with a lone surrogate
            raise ParseError("JSON parse error - invalid unicode (lone surrogate).") from None
        except (ValueError, LookupError) as exc:
            # ValueError: UnicodeError of codecs that cannot decode (e.g. punycode);
            # LookupError: a charset Python does not know.
            raise ParseError(f"JSON parse error - {exc}") from None

    def _parse_exactly(self, body: bytes, media_type, parser_context):
        context = {**(parser_context or {}), "encoding": "utf-8"}
        try:
            data = super().parse(io.BytesIO(body), media_type, context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply.") from None
        try:
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise ParseError("JSON parse error - invalid unicode (lone surrogate).") from None
        return data
