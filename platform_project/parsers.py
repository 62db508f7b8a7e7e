import orjson
from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class StrictJSONParser(JSONParser):
    """JSON request bodies parsed by orjson (the renderer's library), with DRF's JSONParser's
    contract: strict JSON (no NaN or Infinity), bad input a 400 `parse_error`, never a 500.

    orjson reads the UTF-8 bytes as they arrive. The stdlib parser needed a decoding pass, then
    a second walk (`json.dumps`) to find lone UTF-16 surrogates (`"\\ud800"`: valid JSON escapes
    that no UTF-8 can encode, which would fail later when echoed or written to MySQL): ~0.15 ms
    of a ~2.4 ms message post. orjson refuses those itself, and nesting past 1,024 levels. Two
    refusals keep the wording clients had: nesting and lone surrogates. Numbers beyond 64-bit
    integers come as floats (the stdlib made exact ints); a field expecting an integer refuses
    either with a 400.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            body = stream.read()
            if encoding.lower().replace("_", "-") not in ("utf-8", "utf8"):
                body = body.decode(encoding)  # a declared charset other than UTF-8
            return orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            message = str(exc)
            if message.startswith("depth limit exceeded"):
                raise ParseError("JSON parse error - nested too deeply.") from None
            if "surrogate in string" in message:
                raise ParseError("JSON parse error - invalid unicode (lone surrogate).") from None
            raise ParseError(f"JSON parse error - {message}") from None
        except (UnicodeDecodeError, LookupError) as exc:  # LookupError: an unknown charset
            raise ParseError(f"JSON parse error - {exc}") from None
