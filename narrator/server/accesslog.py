"""The access log: one line per request in the Combined Log Format that log analysers read
(`HOST - - [TIME] "METHOD PATH PROTO" STATUS BYTES "REFERER" "USER-AGENT"`), written to the
`narrator.access` logger when the response ends. Bearer tokens never appear: only the request
line, the Referer and the User-Agent are logged."""
from __future__ import annotations

import logging
import time

access = logging.getLogger("narrator.access")


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"' if value else '"-"'


class AccessLog:
    def __init__(self, app, logger: logging.Logger = access):
        self.app, self.logger = app, logger

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        state = {"status": 0, "bytes": 0}

        async def counting_send(message):
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
            elif message["type"] == "http.response.body":
                state["bytes"] += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, counting_send)
        finally:
            self.logger.info(line(scope, state["status"] or 500, state["bytes"]))


def line(scope, status: int, size: int) -> str:
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    client = (scope.get("client") or ("-",))[0]
    path = scope.get("raw_path") or scope["path"].encode()
    target = path.decode("latin-1") + ("?" + scope["query_string"].decode("latin-1")
                                       if scope.get("query_string") else "")
    request = f'{scope["method"]} {target} HTTP/{scope.get("http_version", "1.1")}'
    when = time.strftime("%d/%b/%Y:%H:%M:%S %z", time.localtime())
    return (f'{client} - - [{when}] {_quoted(request)} {status} {size or "-"} '
            f'{_quoted(headers.get("referer", ""))} {_quoted(headers.get("user-agent", ""))}')
