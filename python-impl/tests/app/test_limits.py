"""The HTTP layer's limits, timeouts and shutdown, against `python -m app` over raw sockets on 127.0.0.1."""

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from test_main import WAIT, Server

PROBLEM = "application/problem+json; charset=utf-8"
# Small limits so that every test runs in seconds; the defaults are the README's.
FAST = {"HEADER_TIMEOUT_SECONDS": "1", "BODY_TIMEOUT_SECONDS": "1", "SHUTDOWN_DRAIN_SECONDS": "2"}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[Server, int]]:
    started = Server(tmp_path / "app.db", **FAST)
    port = int(started.start().rsplit(":", 1)[1])
    yield started, port
    if started.process.poll() is None:
        started.process.kill()
        started.process.wait(WAIT)


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.settimeout(5)
    return sock


def read_all(sock: socket.socket) -> bytes:
    """Everything until the server closes (bounded by the socket's timeout)."""
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, TimeoutError):
            return data
        if not chunk:
            return data
        data += chunk


def exchange(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    with connect(port) as sock:
        sock.sendall(request)
        return parse(read_all(sock))


def parse(response: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = response.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, body


def assert_problem(answer: tuple[int, dict[str, str], bytes], status: int, detail: str) -> None:
    code, headers, body = answer
    assert code == status, body
    assert headers["content-type"] == PROBLEM
    problem = json.loads(body)
    assert (problem["type"], problem["status"], problem["detail"]) == ("about:blank", status, detail)


def get(path: bytes = b"/health", headers: bytes = b"Host: a\r\n") -> bytes:
    return b"GET " + path + b" HTTP/1.1\r\n" + headers + b"\r\n"


def test_request_line_and_headers_have_limits_answered_in_problem_json(server: tuple[Server, int]) -> None:
    _, port = server
    assert_problem(exchange(port, get(b"/" + b"a" * 8200)), 414, "The request URL is longer than 8192 bytes.")
    assert_problem(exchange(port, get(b"/" + b"a" * 43000)), 414, "The request URL is longer than 8192 bytes.")
    big = b"Host: a\r\nX-Big: " + b"a" * 17000 + b"\r\n"
    assert_problem(exchange(port, get(headers=big)), 431, "The request headers are larger than 16384 bytes.")
    many = b"Host: a\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(100))
    assert_problem(exchange(port, get(headers=many)), 431, "The request has more than 100 headers.")
    # Counted once the head is complete, in the Node kit's order: too many headers, then too many bytes.
    many_and_big = b"Host: a\r\n" + b"".join(b"X-%d: %s\r\n" % (i, b"a" * 200) for i in range(110))
    assert_problem(exchange(port, get(headers=many_and_big)), 431, "The request has more than 100 headers.")
    # Just inside every limit is served.
    fits = b"Host: a\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(99))
    assert exchange(port, get(b"/health?" + b"a" * 8000, fits))[0] == 200


def test_a_huge_header_is_cut_off_without_being_read(server: tuple[Server, int]) -> None:
    _, port = server
    with connect(port) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: a\r\nX-Big: ")
        refused = b""
        try:
            for _ in range(1024):  # up to 64 MB, as an attacker would send
                sock.sendall(b"a" * 65536)
        except (BrokenPipeError, ConnectionResetError):
            pass
        refused = read_all(sock)
    assert refused == b"" or parse(refused)[0] == 431
    assert exchange(port, get())[0] == 200


def test_exactly_one_host_header(server: tuple[Server, int]) -> None:
    _, port = server
    one_host = "The request must have exactly one Host header."
    assert_problem(exchange(port, get(headers=b"Host: a\r\nHost: b\r\n")), 400, one_host)
    assert_problem(exchange(port, get(headers=b"")), 400, one_host)
    assert exchange(port, b"GET /health HTTP/1.0\r\n\r\n")[0] == 200  # HTTP/1.0 needs none


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GET /\xff HTTP/1.1\r\nHost: a\r\n\r\n",
        b"GET /health?q=\xff HTTP/1.1\r\nHost: a\r\n\r\n",
        b"GET /health HTTP/1.1\r\nHost: a\r\nX-A: a\x00b\r\n\r\n",
        b"POST /users HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"get /health HTTP/1.1\r\nHost: a\r\n\r\n",
        b"BREW /health HTTP/1.1\r\nHost: a\r\n\r\n",
        b"GET /health HTTP/9.9\r\nHost: a\r\n\r\n",
    ],
)
def test_malformed_http_is_a_problem_not_text(server: tuple[Server, int], request_bytes: bytes) -> None:
    _, port = server
    assert_problem(exchange(port, request_bytes), 400, "The request is not valid HTTP.")


def test_slow_headers_and_stalled_bodies_are_cut(server: tuple[Server, int]) -> None:
    _, port = server
    started = time.monotonic()
    with connect(port) as half_line, connect(port) as half_headers, connect(port) as stalled_body:
        half_line.sendall(b"GET /hea")
        half_headers.sendall(b"GET /health HTTP/1.1\r\nHost: a\r\nX-Slow: ")
        stalled_body.sendall(
            b"POST /users HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n{"
        )
        for sock in (half_line, half_headers):
            assert_problem(parse(read_all(sock)), 408, "The request headers did not arrive within 1 s.")
        assert_problem(parse(read_all(stalled_body)), 408, "The request body stalled for 1 s.")
    assert time.monotonic() - started < 4


def test_an_idle_connection_is_closed_after_the_keep_alive_timeout(tmp_path: Path) -> None:
    started = Server(tmp_path / "app.db", KEEP_ALIVE_TIMEOUT_SECONDS="1")
    try:
        port = int(started.start().rsplit(":", 1)[1])
        with connect(port) as sock:
            sock.sendall(get())
            first = b""
            while not first.endswith(b"}"):
                first += sock.recv(65536)
            assert first.startswith(b"HTTP/1.1 200")
            began = time.monotonic()
            assert sock.recv(65536) == b""  # closed by the server
            assert 0.5 < time.monotonic() - began < 3
        # Bytes that begin no request (a stray CRLF) do not keep an idle connection open.
        with connect(port) as sock:
            sock.sendall(get())
            first = b""
            while not first.endswith(b"}"):
                first += sock.recv(65536)
            began = time.monotonic()
            sock.sendall(b"\r\n")
            assert sock.recv(65536) == b""
            assert 0.5 < time.monotonic() - began < 3
    finally:
        started.process.kill()
        started.process.wait(WAIT)


def test_413_reaches_a_client_that_writes_its_whole_body_first(server: tuple[Server, int]) -> None:
    _, port = server
    body = b"x" * (4 * 1024 * 1024)
    head = b"POST /users HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(
        body
    )
    with connect(port) as sock:
        sock.sendall(head + body)  # as http.client and requests do: all of it, then read
        status, headers, answer = parse(sock.recv(65536))
        assert status == 413 and headers["content-type"] == PROBLEM
        assert json.loads(answer)["detail"] == "The request body is larger than 65536 bytes."
        sock.sendall(get())  # the body was read and discarded: the connection still serves
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")


def test_a_client_hanging_up_mid_body_is_one_info_line(server: tuple[Server, int]) -> None:
    process, port = server
    for _ in range(3):
        with connect(port) as sock:
            sock.sendall(
                b"POST /users HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 99\r\n\r\n{"
            )
            time.sleep(0.1)
    time.sleep(0.3)
    assert process.stop() == 0
    process.stop_output()
    logged = [json.loads(line) for line in process.lines if line.startswith("{")]
    gone = [line for line in logged if line["msg"] == "client disconnected"]
    assert len(gone) == 3
    assert all(line["level"] == "info" and line["status"] == 499 for line in gone)
    assert not [line for line in logged if line["level"] in ("warning", "error") or "error" in line]
    assert not [line for line in logged if line.get("status") == 500]


def test_sigterm_drains_keep_alive_connections_with_connection_close(server: tuple[Server, int]) -> None:
    process, port = server
    idle = connect(port)
    idle.sendall(get())
    assert idle.recv(65536).startswith(b"HTTP/1.1 200")
    busy = connect(port)
    busy.sendall(b"POST /users HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 120\r\n\r\n")
    time.sleep(0.2)
    began = time.monotonic()
    process.process.send_signal(15)
    time.sleep(0.2)
    # A request arriving on an idle keep-alive connection just after SIGTERM is served, then the connection closes.
    idle.sendall(get())
    status, headers, _ = parse(read_all(idle))
    assert status == 200 and headers["connection"] == "close"
    # A request in flight finishes, answered with Connection: close.
    user = json.dumps({"email": "drain@example.com", "password": "correct-horse-42", "displayName": "D"}).encode()
    busy.sendall(user.ljust(120))
    status, headers, answer = parse(read_all(busy))
    assert status == 201 and headers["connection"] == "close", answer
    with pytest.raises(OSError):
        connect(port).close()  # no longer accepting
    assert process.process.wait(WAIT) == 0
    assert time.monotonic() - began < 2
    idle.close()
    busy.close()


def test_sigterm_cuts_a_stalled_client_at_the_drain_limit(tmp_path: Path) -> None:
    # The body timeout is longer than the drain: only the drain can end this request.
    started = Server(tmp_path / "app.db", SHUTDOWN_DRAIN_SECONDS="1", BODY_TIMEOUT_SECONDS="60")
    try:
        port = int(started.start().rsplit(":", 1)[1])
        with connect(port) as sock:
            sock.sendall(
                b"POST /users HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 99\r\n\r\n{"
            )
            time.sleep(0.2)
            began = time.monotonic()
            started.process.send_signal(15)
            assert started.process.wait(WAIT) == 0
            assert time.monotonic() - began < 3
    finally:
        if started.process.poll() is None:
            started.process.kill()
            started.process.wait(WAIT)


def test_sigterm_under_keep_alive_load_resets_no_request(tmp_path: Path) -> None:
    process = Server(tmp_path / "app.db", **FAST)
    port = int(process.start().rsplit(":", 1)[1])
    assert process.process.stdout is not None
    # The access log is read away while the load runs, so that a full pipe never stalls the server.
    threading.Thread(target=process.process.stdout.read, daemon=True).start()
    errors: list[BaseException] = []
    answered = [0] * 8
    stop = threading.Event()

    def load(worker: int) -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            while not stop.is_set():
                try:
                    response = client.get("/health")
                except httpx.ConnectError:
                    return  # the listener is closed: new connections are refused, which is not a reset
                except httpx.HTTPError as exc:
                    errors.append(exc)
                    return
                answered[worker] += 1
                if response.headers.get("connection") == "close":
                    return  # the server said so: a well-behaved client stops using this connection

    workers = [threading.Thread(target=load, args=(n,)) for n in range(len(answered))]
    try:
        for worker in workers:
            worker.start()
        deadline = time.monotonic() + WAIT
        while min(answered) < 20 and time.monotonic() < deadline:  # every connection open and busy
            time.sleep(0.05)
        process.process.send_signal(15)
        assert process.process.wait(WAIT) == 0
    finally:
        stop.set()
        for worker in workers:
            worker.join(WAIT)
        if process.process.poll() is None:
            process.process.kill()
            process.process.wait(WAIT)
    assert min(answered) >= 20
    assert errors == []


def test_forwarded_headers_do_not_change_the_client_address(tmp_path: Path) -> None:
    # As in Node (Fastify's trustProxy is off): a client on the same host cannot pick the address its failed
    # logins are counted against by sending X-Forwarded-For.
    started = Server(tmp_path / "app.db", LOGIN_MAX_ADDRESS_FAILURES="1", BCRYPT_ROUNDS="4")
    try:
        port = int(started.start().rsplit(":", 1)[1])
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            statuses = [
                client.post(
                    "/auth/login",
                    json={"email": f"nobody{n}@example.com", "password": "wrong-password"},
                    headers={"X-Forwarded-For": f"203.0.113.{n}", "X-Forwarded-Proto": "https"},
                ).status_code
                for n in range(2)
            ]
        assert statuses == [401, 429]
    finally:
        started.process.kill()
        started.process.wait(WAIT)


def test_behind_a_trusted_proxy_failed_logins_count_against_the_forwarded_address(tmp_path: Path) -> None:
    # TRUSTED_PROXIES names the balancer (here the test, on 127.0.0.1): each forwarded client has its own count.
    started = Server(
        tmp_path / "app.db", LOGIN_MAX_ADDRESS_FAILURES="1", BCRYPT_ROUNDS="4", TRUSTED_PROXIES="127.0.0.1"
    )
    try:
        port = int(started.start().rsplit(":", 1)[1])
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            statuses = [
                client.post(
                    "/auth/login",
                    json={"email": f"nobody{n}@example.com", "password": "wrong-password"},
                    headers={"X-Forwarded-For": f"203.0.113.{n // 2}"},
                ).status_code
                for n in range(4)
            ]
        assert statuses == [401, 429, 401, 429]
    finally:
        started.process.kill()
        started.process.wait(WAIT)
