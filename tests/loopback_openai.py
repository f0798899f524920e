"""A small OpenAI-compatible HTTP server on loopback, for the openai backend's protocol and fault tests.

It answers /v1/completions and /v1/chat/completions with text drawn from the request's `seed`
(so a shared seed yields identical samples, as real servers do), and can be told to fail: answer
429 or 500 a number of times, drop the connection, or refuse `n`. Every request body is recorded.
`answer` stands in for the deployed model (swap it to "redeploy" under the same name and URL), and
`model_info` is what /v1/models reports about it. For replicas: `delay_s` per request with at most
`capacity` requests worked on at once (a server's fixed batch), and `die_after`: after answering that
many completions the server "crashes" (every later request, in flight ones included, is dropped
without an answer, and /v1/models stops answering too).
"""

from __future__ import annotations

import json
import random
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable


@dataclass
class Behaviour:
    fail_status: int | None = None  # answer this status ...
    fail_times: int = 0  # ... this many times first
    drop_times: int = 0  # close the connection without an answer this many times first
    refuse_n: bool = False  # 400 on n > 1, as some servers do
    model: str = "loopback-model"
    # what GET /v1/models says about the model besides its id (e.g. {"root": "/models/phi"})
    model_info: dict[str, Any] = field(default_factory=dict)
    # the "deployed model": completion text from (request body, sample index); None: seeded noise.
    # A reasoning model answers a dict instead: content, and optionally reasoning_content or
    # reasoning (a separate field), finish_reason, completion_tokens and reasoning_tokens.
    answer: Callable[[dict[str, Any], int], str | dict[str, Any]] | None = None
    delay_s: float = 0.0
    capacity: int | None = None
    die_after: int | None = None
    dead: bool = False
    served: int = 0  # completion requests answered 200
    requests: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    slots: threading.Semaphore | None = None

    def __post_init__(self) -> None:
        if self.capacity is not None:
            self.slots = threading.Semaphore(self.capacity)


def _text(rng: random.Random) -> str:
    return f"Let me think. {rng.randint(0, 99)} and {rng.randint(0, 99)}. The answer is {rng.randint(0, 9)}."


class _Handler(BaseHTTPRequestHandler):
    behaviour: Behaviour

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def _send(self, status: int, payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _drop(self) -> None:
        self.close_connection = True
        self.connection.shutdown(2)

    def do_GET(self) -> None:
        if self.behaviour.dead:
            self._drop()
        elif self.path == "/v1/models":
            entry = {"id": self.behaviour.model, "object": "model", "created": int(time.time()),
                     **self.behaviour.model_info}
            self._send(200, {"object": "list", "data": [entry]})
        else:
            self._send(404, {"error": "not found"})

    def do_POST(self) -> None:
        b = self.behaviour
        length = int(self.headers.get("Content-Length", 0))
        req = json.loads(self.rfile.read(length))
        if b.delay_s:
            if b.slots is not None:
                with b.slots:
                    time.sleep(b.delay_s)
            else:
                time.sleep(b.delay_s)
        with b.lock:
            b.requests.append(req)
            if b.die_after is not None and b.served >= b.die_after:
                b.dead = True
            if b.dead:
                self._drop()
                return
            if b.drop_times > 0:
                b.drop_times -= 1
                self.close_connection = True
                self.connection.shutdown(2)
                return
            if b.fail_times > 0:
                b.fail_times -= 1
                self._send(b.fail_status or 500, {"error": {"message": "injected failure"}})
                return
        if self.path not in ("/v1/completions", "/v1/chat/completions"):
            self._send(404, {"error": {"message": f"no route {self.path}"}})
            return
        if req.get("model") != b.model:
            self._send(404, {"error": {"message": f"model {req.get('model')} does not exist"}})
            return
        n = int(req.get("n", 1))
        if n > 1 and b.refuse_n:
            self._send(400, {"error": {"message": "n > 1 is not supported"}})
            return
        rng = random.Random(req["seed"]) if "seed" in req else random.Random()
        chat = self.path.endswith("chat/completions")
        choices = []
        usage: dict[str, Any] = {"prompt_tokens": 11, "completion_tokens": 0}
        for i in range(n):
            got = b.answer(req, i) if b.answer is not None else _text(rng)
            a = got if isinstance(got, dict) else {"content": got}
            fields = {k: a[k] for k in ("reasoning_content", "reasoning") if k in a}
            msg = {"message": {"role": "assistant", "content": a["content"], **fields}} if chat else \
                {"text": a["content"] or "", **fields}
            choices.append({"index": i, "finish_reason": a.get("finish_reason", "stop"), **msg})
            usage["completion_tokens"] += a.get("completion_tokens", 7)
            if "reasoning_tokens" in a:
                details = usage.setdefault("completion_tokens_details", {"reasoning_tokens": 0})
                details["reasoning_tokens"] += a["reasoning_tokens"]
        with b.lock:
            if b.dead:  # died while this one was being worked on
                self._drop()
                return
            b.served += 1
        self._send(200, {"choices": choices, "usage": usage})


class LoopbackServer:
    def __init__(self, behaviour: Behaviour | None = None):
        self.behaviour = behaviour or Behaviour()
        handler = type("Handler", (_Handler,), {"behaviour": self.behaviour})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> "LoopbackServer":
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
