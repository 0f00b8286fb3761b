"""A request's JSON body, read within bounds: the size (declared or not), the nesting, and
strings that are Unicode text. Every route that takes a JSON body reads it here."""
from __future__ import annotations

import json

from fastapi import HTTPException, Request

MAX_BODY = 6 * 1024 * 1024


async def read_body(request: Request) -> dict:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY:
        raise HTTPException(413, f"the request is larger than {MAX_BODY} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise HTTPException(413, f"the request is larger than {MAX_BODY} bytes")
    try:
        payload = json.loads(body or b"null")
    except ValueError:
        raise HTTPException(400, "the body must be JSON") from None
    except RecursionError:
        raise HTTPException(400, "the body's JSON is nested too deeply") from None
    if not isinstance(payload, dict):
        raise HTTPException(400, "the body must be a JSON object")
    if not _unicode_text(payload):
        raise HTTPException(400, "the body's JSON holds a string that is not Unicode "
                            "text (a lone surrogate such as \\ud800)")
    return payload


def _unicode_text(payload) -> bool:
    """Whether every string in a parsed JSON value (keys too) can be encoded as UTF-8."""
    stack = [payload]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return False
    return True
