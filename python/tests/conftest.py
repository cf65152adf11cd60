"""Fixtures for the package's tests: the jouleperf program beside the extension (its
output is what the DataFrames must equal), a simulated study's store, and a store holding
an online run replayed against a small OpenAI-compatible streaming server on 127.0.0.1."""

import http.server
import json
import os
import subprocess
import threading

import pytest


@pytest.fixture(scope="session")
def jp_bin():
    path = os.environ.get("JOULEPERF_BIN", "")
    if not path or not os.access(path, os.X_OK):
        pytest.skip("JOULEPERF_BIN does not name the built jouleperf program (ctest sets it)")
    return path


def run(jp_bin, *args):
    """Runs the program; returns stdout (fails the test with stderr on a non-zero exit)."""
    r = subprocess.run([jp_bin, *args], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, f"jouleperf {' '.join(args)} exited {r.returncode}: {r.stderr}"
    return r.stdout


STUDY = """name: python-test
configs:
  - name: eager
    engine: sim
    model: Llama-3.2-1B
    baseline: true
    settings: {hardware: h100-sxm, stack: hf-eager}
  - name: vllm
    engine: sim
    model: Llama-3.2-1B
    settings: {hardware: h100-sxm, stack: vllm}
inputs: [128, 1024]
outputs: [32, 256]
batches: [1, 8]
warmup: 0
repetitions: 1
"""


@pytest.fixture(scope="session")
def sim_store(jp_bin, tmp_path_factory):
    """A results store of a simulated study (cells, estimates and validations stored)."""
    d = tmp_path_factory.mktemp("study")
    (d / "study.yaml").write_text(STUDY)
    run(jp_bin, "study", str(d / "study.yaml"), "--out", str(d / "out"), "--no-progress")
    return str(d / "out" / "results.db")


class _OpenAiHandler(http.server.BaseHTTPRequestHandler):
    """POST /v1/completions: one server-sent event per token, then finish_reason and usage."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
        n = int(body.get("max_tokens", 4))
        prompt = body.get("prompt", [])
        prompt_tokens = len(prompt) if isinstance(prompt, list) else len(str(prompt).split())
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

        def event(obj):
            data = f"data: {json.dumps(obj) if not isinstance(obj, str) else obj}\n\n".encode()
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

        for _ in range(n):
            event({"choices": [{"index": 0, "text": " x", "finish_reason": None}]})
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": n, "total_tokens": prompt_tokens + n}
        event({"choices": [{"index": 0, "text": "", "finish_reason": "length"}], "usage": usage})
        event("[DONE]")
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


@pytest.fixture(scope="session")
def openai_url():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _OpenAiHandler)
    server.daemon_threads = True
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="session")
def replay_store(jp_bin, openai_url, tmp_path_factory):
    """A store holding one online run of 6 requests (CPU-time model: ESTIMATED energy)."""
    path = str(tmp_path_factory.mktemp("replay") / "replay.db")
    run(jp_bin, "replay", "--url", openai_url, "-m", "fake", "--poisson", "50", "-n", "6", "-I", "16", "-O", "4",
        "--sensor", "cpu-model", "--warmup", "0", "--store", path)
    return path
