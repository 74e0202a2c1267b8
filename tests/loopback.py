"""A loopback OpenAI-compatible chat server with a fixed latency, for tests and benchmarks.

It answers every chat completion with a valid verdict for the names in the prompt, after
``latency`` seconds, and counts requests. Threaded, so concurrent clients overlap their waits.
Only ever bound to 127.0.0.1.
"""

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_NAMES = re.compile(r"<<<NAMES (\w+)>>>\n(.*?)\n<<<END NAMES \1>>>", re.S)


def verdict(user_text, score=4):
    m = _NAMES.search(user_text)
    body = m.group(2) if m else "("
    names = [] if body.startswith("(") else [ln[2:] for ln in body.splitlines()]
    return {"appropriate": "counterfeit" not in user_text, "reason": "loopback",
            "domains": [{"domain": n, "relevance": score, "memorability": score,
                         "conciseness": score, "distinctiveness": score,
                         "constraint_fit": score, "category": "good"} for n in names]}


class LoopbackServer:
    """``answer_first``: answer that many requests, then hang ``hang`` seconds on each (None: all).

    ``reply``: the answer's text for a user message (default: a valid verdict for its names).
    """

    def __init__(self, latency=0.0, answer_first=None, hang=30.0, reply=None):
        self.latency = latency
        self.reply = reply
        self.answer_first, self.hang = answer_first, hang
        self.bodies = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                payload = json.dumps({"requests": server.requests}).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_POST(self):
                length = int(self.headers.get("content-length", 0))
                body = json.loads(self.rfile.read(length))
                with server._lock:
                    server.bodies.append(body)
                    number = len(server.bodies)
                hung = server.answer_first is not None and number > server.answer_first
                time.sleep(server.hang if hung else server.latency)
                payload = _completion(body, server.reply)
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        class Server(ThreadingHTTPServer):
            # The default backlog of 5 drops simultaneous connects, which then wait a 1 s
            # SYN retransmit; real servers queue far more.
            request_queue_size = 256

            def handle_error(self, request, client_address):
                pass  # a client that gave up on a hung request closed its end: not news

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def requests(self):
        return len(self.bodies)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def _completion(body, reply=None):
    user = next(m["content"] for m in body["messages"] if m["role"] == "user")
    content = reply(user) if reply is not None else json.dumps(verdict(user))
    return json.dumps({
        "id": "chatcmpl-loop", "object": "chat.completion", "created": 0, "model": body["model"],
        "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                     "message": {"role": "assistant", "refusal": None,
                                 "content": content}}],
        "usage": {"prompt_tokens": 900, "completion_tokens": 150, "total_tokens": 1050},
    }).encode()


async def _serve_async(latency, ready):
    """The same answers from one asyncio loop: no thread wake-ups, so the latency is exact."""
    import asyncio

    count = 0

    async def handle(reader, writer):
        nonlocal count
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method = lines[0].split(" ", 1)[0]
                headers = dict(ln.split(": ", 1) for ln in lines[1:] if ": " in ln)
                length = int({k.lower(): v for k, v in headers.items()}.get("content-length", 0))
                raw = await reader.readexactly(length) if length else b""
                if method == "POST":
                    count += 1
                    await asyncio.sleep(latency)
                    payload = _completion(json.loads(raw))
                else:
                    payload = json.dumps({"requests": count}).encode()
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                             b"content-length: %d\r\n\r\n" % len(payload) + payload)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
    ready(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/v1")
    async with server:
        await server.serve_forever()


class LoopbackProcess:
    """The server in a child process on its own asyncio loop, so its work shares neither our
    interpreter's GIL nor thread scheduling; GET on any path returns the request count."""

    def __init__(self, latency=0.0):
        self.latency = latency

    def __enter__(self):
        import subprocess
        import sys

        self.proc = subprocess.Popen([sys.executable, __file__, str(self.latency)],
                                     stdout=subprocess.PIPE, text=True)
        self.base_url = self.proc.stdout.readline().strip()
        return self

    @property
    def requests(self):
        import urllib.request

        with urllib.request.urlopen(self.base_url.rsplit("/v1", 1)[0] + "/count") as resp:
            return json.loads(resp.read())["requests"]

    def __exit__(self, *exc):
        self.proc.terminate()
        self.proc.wait(timeout=10)


if __name__ == "__main__":
    import asyncio
    import sys

    asyncio.run(_serve_async(float(sys.argv[1]), lambda url: print(url, flush=True)))
