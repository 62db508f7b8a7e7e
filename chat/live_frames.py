"""What a client sends on the chat socket, read and checked, and the frames that answer it
(`error`, `resync`). The events pushed to the socket are encoded by chat.events."""

import orjson

from chat import events


class FrameError(Exception):
    """A client frame refused: the socket answers an `error` frame and stays open."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code, self.detail = code, detail


def error(code: str, detail: str) -> str:
    return events.encode({"type": "error", "code": code, "detail": detail})


# The database or the cache out of reach while a client frame was answered: the socket stays,
# as REST answers 503 and keeps serving.
UNAVAILABLE = error("service_unavailable", "The service is temporarily unavailable.")


def resync(channel_id: int, from_seq: int) -> str:
    return events.encode({"type": "resync", "channel_id": channel_id, "from_seq": from_seq})


def client_frame(text: str | None) -> dict:
    """A client frame: a JSON object whose `type` is `resume` or `typing`."""
    if text is None:
        raise FrameError("invalid_frame", "Frames are JSON text.")
    try:
        frame = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise FrameError("invalid_json", "A frame must be valid JSON.") from None
    if not isinstance(frame, dict) or frame.get("type") not in ("resume", "typing"):
        raise FrameError("unknown_type", "A frame is a JSON object whose type is resume or typing.")
    return frame


def resume_cursors(frame: dict) -> dict[int, int]:
    """A `resume` frame's cursors: {channel_id: last seq seen}, ids and seqs as the database
    holds them."""
    cursors = frame.get("cursors")
    if not isinstance(cursors, dict):
        raise _bad_resume()
    wanted = {}
    for key, value in cursors.items():
        if not (key.isascii() and key.isdigit() and len(key) <= 19):
            raise _bad_resume()
        if type(value) is not int or not 0 <= value < 2**32:
            raise _bad_resume()
        wanted[int(key)] = value
    return wanted


def _bad_resume() -> FrameError:
    return FrameError(
        "invalid_frame", 'resume needs cursors: {"<channel_id>": <last seq seen, 0 or more>, ...}.'
    )
