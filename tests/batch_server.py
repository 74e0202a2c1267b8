"""A loopback server with the OpenAI Files + Batches and Anthropic Message Batches endpoints.

Like the real services: a job's status moves (validating/in_progress -> completed, in_progress ->
ended) after a number of polls, results come back out of order, and chosen lines fail, on OpenAI
in both shapes (an ``error`` object, or a ``response`` with a 4xx/5xx status and an error body,
in the error file). Direct chat and message calls are answered too, and counted apart, so a test
can tell batch work from direct calls. Judge requests (with a schema) get a valid verdict for the
names in the prompt; others get a list of names. Only ever bound to 127.0.0.1.
"""

import itertools
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from loopback import verdict

ANSWER = '["beanburst", "roastlab", "brewbuddy", "javapocket", "perkypour"]'


def _openai_text(body):
    return next(m["content"] for m in body["messages"] if m["role"] == "user")


def _answers_judge(body):
    return "response_format" in body or "tools" in body


def openai_completion(body, n):
    text = json.dumps(verdict(_openai_text(body))) if _answers_judge(body) else ANSWER
    return {"id": f"chatcmpl-{n}", "object": "chat.completion", "created": 0,
            "model": body["model"],
            "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                         "message": {"role": "assistant", "content": text, "refusal": None}}],
            "usage": {"prompt_tokens": 1000, "completion_tokens": 200, "total_tokens": 1200}}


def anthropic_message(params, n):
    text = params["messages"][0]["content"]
    if _answers_judge(params):
        content = [{"type": "tool_use", "id": f"toolu_{n}", "name": "record_verdict",
                    "input": verdict(text)}]
    else:
        content = [{"type": "text", "text": ANSWER}]
    return {"id": f"msg_{n}", "type": "message", "role": "assistant", "model": params["model"],
            "content": content, "stop_reason": "end_turn", "stop_sequence": None,
            "usage": {"input_tokens": 1000, "output_tokens": 200,
                      "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0}}


class BatchServer:
    """``polls``: status checks before a job is done; ``fail_every``: every n-th line fails."""

    def __init__(self, polls=2, fail_every=0, fail_shapes=("error", "status")):
        self.polls, self.fail_every, self.fail_shapes = polls, fail_every, fail_shapes
        self.files, self.batches, self.anthropic = {}, {}, {}
        self.direct = []
        self.created = []
        self.uploads = []
        self.cancelled = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _send(self, payload, status=200, content_type="application/json"):
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _body(self):
                return self.rfile.read(int(self.headers.get("content-length", 0)))

            def do_GET(self):
                with server._lock:
                    self._send(*server.get(self.path))

            def do_POST(self):
                raw = self._body()
                with server._lock:
                    self._send(*server.post(self.path, raw, self.headers.get("content-type", "")))

        class Server(ThreadingHTTPServer):
            request_queue_size = 256

            def handle_error(self, request, client_address):
                pass

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.root = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.base_url = self.root + "/v1"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()

    # --- routing ----------------------------------------------------------------------------

    def post(self, path, raw, content_type):
        n = next(self._ids)
        if path == "/v1/chat/completions":
            body = json.loads(raw)
            self.direct.append(body)
            return (openai_completion(body, n),)
        if path == "/v1/messages":
            body = json.loads(raw)
            self.direct.append(body)
            return (anthropic_message(body, n),)
        if path == "/v1/files":
            text = _multipart_file(raw, content_type)
            self.uploads.append(text)
            file_id = f"file-{n}"
            self.files[file_id] = text
            return ({"id": file_id, "object": "file", "bytes": len(text), "created_at": 0,
                     "filename": "batch.jsonl", "purpose": "batch", "status": "processed"},)
        if path == "/v1/batches":
            body = json.loads(raw)
            batch_id = f"batch_{n}"
            lines = [json.loads(ln) for ln in self.files[body["input_file_id"]].splitlines() if ln]
            self.batches[batch_id] = {"lines": lines, "polls": 0, "status": "validating"}
            self.created.append(batch_id)
            return (self._openai_batch(batch_id),)
        m = re.fullmatch(r"/v1/batches/([^/]+)/cancel", path)
        if m:
            self.batches[m.group(1)]["status"] = "cancelled"
            self.cancelled.append(m.group(1))
            return (self._openai_batch(m.group(1)),)
        if path == "/v1/messages/batches":
            body = json.loads(raw)
            batch_id = f"msgbatch_{n}"
            self.anthropic[batch_id] = {"requests": body["requests"], "polls": 0,
                                        "status": "in_progress"}
            self.created.append(batch_id)
            return (self._anthropic_batch(batch_id),)
        m = re.fullmatch(r"/v1/messages/batches/([^/]+)/cancel", path)
        if m:
            self.anthropic[m.group(1)]["status"] = "canceling"
            self.cancelled.append(m.group(1))
            return (self._anthropic_batch(m.group(1)),)
        return {"error": {"message": f"no route {path}", "type": "not_found"}}, 404

    def get(self, path):
        m = re.fullmatch(r"/v1/batches/([^/?]+)", path)
        if m:
            job = self.batches[m.group(1)]
            job["polls"] += 1
            if job["status"] not in ("cancelled",):
                job["status"] = "completed" if job["polls"] > self.polls else "in_progress"
            return (self._openai_batch(m.group(1)),)
        m = re.fullmatch(r"/v1/files/([^/]+)/content", path)
        if m:
            return self.files[m.group(1)].encode(), 200, "application/octet-stream"
        m = re.fullmatch(r"/v1/messages/batches/([^/?]+)/results", path)
        if m:
            return self._anthropic_results(m.group(1)), 200, "application/binary"
        m = re.fullmatch(r"/v1/messages/batches/([^/?]+)", path)
        if m:
            job = self.anthropic[m.group(1)]
            job["polls"] += 1
            if job["polls"] > self.polls or job["status"] == "canceling":
                job["status"] = "ended"
            return (self._anthropic_batch(m.group(1)),)
        return {"error": {"message": f"no route {path}", "type": "not_found"}}, 404

    # --- OpenAI batches -------------------------------------------------------------------

    def _fails(self, index):
        return self.fail_every and index % self.fail_every == self.fail_every - 1

    def _openai_batch(self, batch_id):
        job = self.batches[batch_id]
        done = job["status"] == "completed"
        out_id = err_id = None
        failed = 0
        if done and "output" not in job:
            ok, bad = [], []
            for i, line in enumerate(job["lines"]):
                cid = line["custom_id"]
                if self._fails(i):
                    failed += 1
                    shape = self.fail_shapes[(i // max(1, self.fail_every)) % len(self.fail_shapes)]
                    if shape == "error":
                        bad.append({"id": f"r{i}", "custom_id": cid, "response": None,
                                    "error": {"code": "server_error", "message": "try again"}})
                    else:
                        bad.append({"id": f"r{i}", "custom_id": cid, "error": None,
                                    "response": {"status_code": 500, "request_id": f"q{i}",
                                                 "body": {"error": {"message": "overloaded",
                                                                    "type": "server_error"}}}})
                else:
                    ok.append({"id": f"r{i}", "custom_id": cid, "error": None,
                               "response": {"status_code": 200, "request_id": f"q{i}",
                                            "body": openai_completion(line["body"], i)}})
            ok.reverse()  # results come back in any order
            job["output"] = f"file-out-{batch_id}"
            self.files[job["output"]] = "".join(json.dumps(r) + "\n" for r in ok)
            if bad:
                job["errors"] = f"file-err-{batch_id}"
                self.files[job["errors"]] = "".join(json.dumps(r) + "\n" for r in bad)
            job["failed"] = failed
        if done:
            out_id, err_id = job.get("output"), job.get("errors")
        total = len(job["lines"])
        return {"id": batch_id, "object": "batch", "endpoint": "/v1/chat/completions",
                "input_file_id": "file-in", "completion_window": "24h",
                "status": job["status"], "output_file_id": out_id, "error_file_id": err_id,
                "created_at": 0,
                "request_counts": {"total": total,
                                   "completed": total - job.get("failed", 0) if done else 0,
                                   "failed": job.get("failed", 0) if done else 0}}

    # --- Anthropic message batches ----------------------------------------------------------

    def _anthropic_batch(self, batch_id):
        job = self.anthropic[batch_id]
        n = len(job["requests"])
        ended = job["status"] == "ended"
        return {"id": batch_id, "type": "message_batch", "processing_status": job["status"],
                "request_counts": {"processing": 0 if ended else n,
                                   "succeeded": n if ended else 0, "errored": 0,
                                   "canceled": 0, "expired": 0},
                "created_at": "2026-11-30T00:00:00Z", "expires_at": "2026-12-01T00:00:00Z",
                "ended_at": "2026-11-30T00:01:00Z" if ended else None,
                "archived_at": None, "cancel_initiated_at": None,
                "results_url": f"{self.root}/v1/messages/batches/{batch_id}/results"
                if ended else None}

    def _anthropic_results(self, batch_id):
        job = self.anthropic[batch_id]
        lines = []
        for i, req in enumerate(job["requests"]):
            if self._fails(i):
                result = {"type": "errored", "error": {"type": "error", "error": {
                    "type": "overloaded_error", "message": "overloaded"}}}
            else:
                result = {"type": "succeeded", "message": anthropic_message(req["params"], i)}
            lines.append({"custom_id": req["custom_id"], "result": result})
        lines.reverse()
        return "".join(json.dumps(ln) + "\n" for ln in lines).encode()


def _multipart_file(raw, content_type):
    """The file part of a multipart/form-data upload, as text."""
    boundary = content_type.split("boundary=", 1)[1].strip('"').encode()
    for part in raw.split(b"--" + boundary):
        head, _, body = part.partition(b"\r\n\r\n")
        if b'name="file"' in head:
            return body.rsplit(b"\r\n", 1)[0].decode()
    raise ValueError("no file part")
