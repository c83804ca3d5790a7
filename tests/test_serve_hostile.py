"""`kmscli serve` against hostile or broken clients: stalls, floods, garbage, a stopped
peer. The server must keep answering everyone else, never crash, never leak a traceback."""

from __future__ import annotations

import socket
import time
import urllib.parse

import pytest

from conftest import make_keyring
from serve_util import serve_in_thread


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("hostile") / "keyring"
    make_keyring(path)
    with serve_in_thread(path, socket_timeout=1, threads=4) as ep:
        yield ep


def address(endpoint):
    url = urllib.parse.urlsplit(endpoint.url)
    return url.hostname, url.port


def test_stalled_clients_are_dropped_and_do_not_stop_others(endpoint):
    client = endpoint.client()
    stalled = []
    for _ in range(6):  # more than the worker threads
        s = socket.create_connection(address(endpoint), timeout=5)
        s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")  # and then nothing
        stalled.append(s)
    try:
        started = time.monotonic()
        assert client.list_keys()["Keys"] == []  # answered while they stall (or once they are dropped)
        assert time.monotonic() - started < 10
        for s in stalled:  # each is dropped within a few socket timeouts
            s.settimeout(5)
            try:
                data = s.recv(4096)
            except ConnectionResetError:
                data = b""
            assert data == b"" or data.startswith(b"HTTP/1.1 4"), data[:60]
    finally:
        for s in stalled:
            s.close()


def test_idle_connections_hold_no_worker_and_are_closed_after_the_timeout(endpoint):
    """40 connections that never send a byte, against 4 workers with a 1 s timeout: were
    each to hold a worker until it timed out, the next request would wait 10 s."""
    idle = [socket.create_connection(address(endpoint), timeout=5) for _ in range(40)]
    try:
        time.sleep(0.2)
        started = time.monotonic()
        assert endpoint.client().generate_random(NumberOfBytes=8)["Plaintext"]
        assert time.monotonic() - started < 2.5
        for s in idle[:3]:
            assert s.recv(10) == b""  # closed by the server once the timeout passed
    finally:
        for s in idle:
            s.close()


def test_a_kept_alive_connection_outlives_the_stall_timeout_between_requests(tmp_path):
    """SDKs keep idle connections with no timeout of their own; a server that closes them
    as soon as it drops a stalled client makes the SDK's next request meet a reset (seen
    with the JS SDK). Idle between requests is allowed longer than a stall mid-request."""
    import http.client

    make_keyring(tmp_path / "keyring")
    with serve_in_thread(tmp_path / "keyring", socket_timeout=0.5, idle_timeout=2) as ep:
        connection = http.client.HTTPConnection(*address(ep), timeout=5)
        try:
            for _ in range(2):  # the second request after an idle 3x the stall timeout
                connection.request("POST", "/", b"{}", {"X-Amz-Target": "TrentService.ListKeys",
                                                        "Content-Type": "application/x-amz-json-1.1"})
                response = connection.getresponse()
                assert response.status == 400 and b"MissingAuthenticationToken" in response.read()
                time.sleep(1.5)
            connected = connection.sock
            time.sleep(1.5)  # 3 s idle in all: beyond the idle timeout
            assert connected is connection.sock and connected.recv(10) == b""  # closed by the server
        finally:
            connection.close()


@pytest.mark.parametrize(
    "raw",
    [
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64,  # a TLS hello to a plain port
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"POST / HTTP/1.1\r\n" + b"X-Long: " + b"a" * (80 << 10) + b"\r\n\r\n",
        b"NONSENSE\r\n\r\n",
    ],
    ids=["tls-hello", "get", "negative-length", "bad-chunk", "huge-header", "nonsense"],
)
def test_garbage_gets_an_error_or_a_close_and_the_server_lives_on(endpoint, raw):
    with socket.create_connection(address(endpoint), timeout=5) as s:
        try:
            s.sendall(raw)
            data = s.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            data = b""
    assert b"Traceback" not in data
    assert data == b"" or data.startswith(b"HTTP/1.1 4") or data.startswith(b"HTTP/1.0 4"), data[:80]
    assert endpoint.client().list_keys()["Keys"] == []


def test_a_client_that_goes_away_mid_request_changes_nothing(endpoint):
    with socket.create_connection(address(endpoint), timeout=5) as s:
        s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: TrentService.CreateKey\r\nContent-Length: 1000\r\n\r\n{\"Desc")
    time.sleep(0.2)
    assert endpoint.client().list_keys()["Keys"] == []


def test_beyond_the_cap_silent_connections_are_closed_at_once_and_service_resumes(tmp_path):
    """A flood of connections that send nothing is capped (the process must keep file
    descriptors for the keyring's files); once they go, everyone is served again."""
    make_keyring(tmp_path / "keyring")
    with serve_in_thread(tmp_path / "keyring", socket_timeout=10, max_connections=5) as ep:
        flood = [socket.create_connection(address(ep), timeout=5) for _ in range(9)]
        try:
            closed_at_once = 0
            for s in flood:
                s.settimeout(0.3)
                try:
                    closed_at_once += s.recv(10) == b""
                except TimeoutError:
                    pass  # waiting in the selector, as the first five should
                except ConnectionResetError:
                    closed_at_once += 1
            assert closed_at_once >= 3
        finally:
            for s in flood:
                s.close()
        time.sleep(0.6)  # the selector notices the closed ones
        assert ep.client().list_keys()["Keys"] == []


def test_a_client_waiting_for_100_continue_gets_it_and_a_head_request_an_answer(endpoint):
    """The status line and headers are held until the body follows (one send() per
    response): a 100 Continue must still go out at once, and a HEAD's answer (no body) too."""
    with socket.create_connection(address(endpoint), timeout=5) as s:
        s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n")
        assert s.recv(4096).startswith(b"HTTP/1.1 100 ")  # before the body is sent
        s.sendall(b"{}")
        assert s.recv(65536).startswith(b"HTTP/1.1 4")  # unsigned: refused, on its merits
    with socket.create_connection(address(endpoint), timeout=5) as s:
        s.sendall(b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert s.recv(4096).startswith(b"HTTP/1.1 4")


def test_headers_trickled_past_the_cap_are_refused(endpoint):
    with socket.create_connection(address(endpoint), timeout=5) as s:
        try:
            s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\n")
            for _ in range(100):  # 100 KiB of headers, 1 KiB at a time
                s.sendall(b"X-Pad: " + b"a" * 1017 + b"\r\n")
            data = s.recv(4096)
        except (ConnectionResetError, BrokenPipeError):
            data = b""
    assert data == b"" or data.startswith(b"HTTP/1.1 4"), data[:80]
    assert endpoint.client().list_keys()["Keys"] == []


def test_a_request_trickled_too_slowly_is_dropped_at_its_deadline(tmp_path):
    """A byte every 0.3 s never stalls for the 1 s timeout; the request's deadline (2 s
    here, 30 s in the product) drops it all the same, and everyone else is served."""
    make_keyring(tmp_path / "keyring")
    with serve_in_thread(tmp_path / "keyring", socket_timeout=1, request_deadline=2) as ep:
        request = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n" + b" " * 500
        started = time.monotonic()
        dropped_after = None
        with socket.create_connection(address(ep), timeout=5) as s:
            for byte in request:
                try:
                    s.sendall(bytes([byte]))
                    s.settimeout(0.3)
                    if s.recv(100) == b"":
                        dropped_after = time.monotonic() - started
                        break
                except TimeoutError:
                    continue  # still open: trickle on
                except (ConnectionResetError, BrokenPipeError):
                    dropped_after = time.monotonic() - started
                    break
        assert dropped_after is not None and 1.8 < dropped_after < 4, dropped_after
        assert ep.client().list_keys()["Keys"] == []


def test_a_client_that_never_reads_its_answers_is_dropped(tmp_path):
    """A client that pipelines requests and never reads the answers fills the server's
    write buffer; it is dropped after the stall timeout, not held (with the server's stop)
    forever."""
    make_keyring(tmp_path / "keyring")
    request = b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: TrentService.GenerateRandom\r\nContent-Length: 2\r\n\r\n{}"
    started = time.monotonic()
    with serve_in_thread(tmp_path / "keyring", socket_timeout=1, idle_timeout=30) as ep:
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.connect(address(ep))
            s.setblocking(False)
            dropped_after = None
            while time.monotonic() - started < 15:
                try:
                    s.send(request)
                    time.sleep(0.0002)
                except BlockingIOError:
                    time.sleep(0.05)  # the server has stopped reading us: wait, still not reading
                except (ConnectionResetError, BrokenPipeError):
                    dropped_after = time.monotonic() - started
                    break
            assert dropped_after is not None and dropped_after < 8, dropped_after
        assert ep.client().list_keys()["Keys"] == []  # everyone else is served
        stopping = time.monotonic()
    assert time.monotonic() - stopping < 5  # and the stop did not wait for the dropped one


def test_pipelined_requests_are_not_counted_into_the_header_cap(endpoint):
    """The header cap counts the current request's headers, not every byte of a read: 64 KiB
    of small pipelined requests in one write are each answered, none refused as too large
    (a refusal after the first had run would hide the ones that ran)."""
    request = b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: TrentService.ListKeys\r\nContent-Length: 2\r\n\r\n{}"
    count = (80 << 10) // len(request)
    answers = b""
    with socket.create_connection(address(endpoint), timeout=5) as s:
        s.sendall(request * count + request[:40])
        while answers.count(b"MissingAuthenticationTokenException") < count:
            chunk = s.recv(65536)
            if not chunk:
                break
            answers += chunk
    assert b"too large" not in answers
    assert answers.count(b"HTTP/1.1 400 ") == count


UNSIGNED = b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: TrentService.ListKeys\r\nContent-Length: 2\r\n\r\n{}"


def read_until_closed(s, seconds=5.0):
    """What the server sent before it closed the connection (a reset ends it too)."""
    s.settimeout(seconds)
    data = b""
    try:
        while chunk := s.recv(65536):
            data += chunk
    except (ConnectionResetError, TimeoutError):
        pass
    return data


@pytest.mark.parametrize("headers", [
    b"X-Big: " + b"a" * (110 << 10) + b"\r\n",
    b"".join(b"X-%d: v\r\n" % i for i in range(12000)),
], ids=["one-header", "many-headers"])
def test_headers_over_the_cap_in_a_single_write_are_refused(endpoint, headers):
    """The whole request, over 64 KiB of headers, in one write (and so, often, one read):
    refused, not handed to the application (which would answer MissingAuthenticationToken)."""
    with socket.create_connection(address(endpoint), timeout=5) as s:
        s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: TrentService.ListKeys\r\n" + headers
                  + b"Content-Length: 2\r\n\r\n{}")
        answer = read_until_closed(s)
    assert answer.startswith(b"HTTP/1.1 400 ") and answer.endswith(b"Request header fields too large"), answer[-200:]
    assert b"MissingAuthenticationToken" not in answer


def test_trailers_count_as_headers(tmp_path):
    """A chunked body's trailers are headers too: a client that sends them without end is
    refused at the cap, not buffered (a 64 MiB flood was once taken whole)."""
    import io
    import json

    make_keyring(tmp_path / "keyring")
    log = io.StringIO()
    with serve_in_thread(tmp_path / "keyring", socket_timeout=5, log_stream=log) as ep:
        trailers = b"".join(b"T-%d: %s\r\n" % (i, b"v" * 100) for i in range(100))  # about 11 KiB
        sent, refused = 0, False
        with socket.create_connection(address(ep), timeout=5) as s:
            s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: TrentService.ListKeys\r\n"
                      b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n")
            s.settimeout(0.05)
            while sent < (64 << 20):
                try:
                    s.sendall(trailers)
                    sent += len(trailers)
                    if s.recv(65536):
                        refused = True
                        break
                except TimeoutError:
                    continue
                except (ConnectionResetError, BrokenPipeError):
                    refused = True
                    break
        assert refused and sent < (16 << 20), sent
        assert ep.client().list_keys()["Keys"] == []
    notes = [json.loads(line) for line in log.getvalue().splitlines()]
    assert any(n.get("detail") == "Request header fields too large" for n in notes), notes


def test_a_refused_request_is_answered_after_the_requests_before_it(endpoint):
    """Pipelined: two requests, then one over the header cap. The client reads the two
    answers it is owed first, then the 400, in order; the answers are not lost to it."""
    with socket.create_connection(address(endpoint), timeout=5) as s:
        s.sendall(UNSIGNED * 2 + b"POST / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (100 << 10)
                  + b"\r\nContent-Length: 2\r\n\r\n{}")
        answer = read_until_closed(s)
    assert answer.count(b"HTTP/1.1 400 ") == 3, answer[-300:]
    assert answer.count(b"MissingAuthenticationTokenException") == 2
    assert answer.endswith(b"Request header fields too large")


def test_a_closing_connection_whose_client_reads_nothing_is_dropped(tmp_path):
    """Answers under the write buffer's high water, unread, on a connection that is closing
    (the last request said Connection: close): dropped after the stall timeout rather than
    held forever, which with a connection cap of 1 would refuse everyone after it."""
    import gc

    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    make_keyring(tmp_path / "keyring")
    closing = UNSIGNED.replace(b"Host: x\r\n", b"Host: x\r\nConnection: close\r\n")
    with serve_in_thread(tmp_path / "keyring", socket_timeout=1, idle_timeout=30, max_connections=1) as ep:
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.connect(address(ep))
            time.sleep(0.2)
            protocol = next(o for o in gc.get_objects()
                            if isinstance(o, HttpToolsProtocol) and getattr(o, "transport", None) is not None
                            and not o.transport.is_closing())
            for _ in range(4000):  # until the kernel's buffers are full and the server holds answers
                s.sendall(UNSIGNED * 20)
                time.sleep(0.002)
                if protocol.transport.get_write_buffer_size() > 0:
                    break
            s.sendall(closing)
            time.sleep(0.3)
            assert protocol.transport.get_write_buffer_size() > 0  # answers held, unread
            deadline = time.monotonic() + 5
            while protocol.parser is not None and time.monotonic() < deadline:
                time.sleep(0.1)
            assert protocol.parser is None  # the connection is gone (uvicorn drops its parser then)
            assert ep.client().list_keys()["Keys"] == []  # and the one connection allowed is free


BAD_URL = b"GET http://a:99999/ HTTP/1.1\r\nHost: x\r\n\r\n"  # llhttp takes it; uvicorn's URL parser does not


def test_a_url_the_server_cannot_parse_is_answered_400_in_its_turn(endpoint):
    """After an answered request on the same connection, and pipelined behind another: the
    400 is this request's own, after the answer owed before it (not an abort, not first)."""
    with socket.create_connection(address(endpoint), timeout=5) as s:
        s.sendall(UNSIGNED)
        assert s.recv(65536).startswith(b"HTTP/1.1 400 ")
        s.sendall(BAD_URL)
        answer = read_until_closed(s)
    assert answer.startswith(b"HTTP/1.1 400 ") and answer.endswith(b"Invalid HTTP request received."), answer
    with socket.create_connection(address(endpoint), timeout=5) as s:
        s.sendall(UNSIGNED + BAD_URL)
        answer = read_until_closed(s)
    assert answer.count(b"HTTP/1.1 400 ") == 2, answer
    assert answer.index(b"MissingAuthenticationTokenException") < answer.index(b"Invalid HTTP request received.")


@pytest.mark.parametrize("rest", [b"zz\r\n", b"0\r\n" + b"T: " + b"v" * (100 << 10) + b"\r\n\r\n"],
                         ids=["bad-chunk", "trailers-over-the-cap"])
def test_a_refused_request_that_expects_100_continue_gets_its_400_and_nothing_after(endpoint, rest, caplog):
    """Refused before its application first ran: the 400, then nothing (no 100 Continue
    after it, no task failing on a write after the FIN, which asyncio prints as a traceback)."""
    import logging

    caplog.set_level(logging.ERROR)
    with socket.create_connection(address(endpoint), timeout=5) as s:
        s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: TrentService.ListKeys\r\nExpect: 100-continue\r\n"
                  b"Transfer-Encoding: chunked\r\n\r\n" + rest)
        answer = read_until_closed(s)
    time.sleep(0.2)  # a task failing after the answer would have done so by now
    assert answer.startswith(b"HTTP/1.1 400 ") and answer.count(b"HTTP/1.1 ") == 1, answer
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], [r.getMessage() for r in caplog.records]
    assert endpoint.client().list_keys()["Keys"] == []


def test_a_client_that_half_closes_reads_every_answer_owed(endpoint):
    """Two requests and a refused one, then shutdown(SHUT_WR): the client has sent all it
    will, and reads the three answers (closing at its EOF would lose them)."""
    big = b"POST / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (100 << 10) + b"\r\nContent-Length: 2\r\n\r\n{}"
    for payload, answers in ((UNSIGNED * 2, 2), (UNSIGNED * 2 + big, 3)):
        with socket.create_connection(address(endpoint), timeout=5) as s:
            s.sendall(payload)
            s.shutdown(socket.SHUT_WR)
            answer = read_until_closed(s)
        assert answer.count(b"HTTP/1.1 400 ") == answers, answer[-200:]


def test_the_stop_does_not_wait_for_a_lingering_close(tmp_path):
    """A request in flight when the stop begins is answered and its connection closed; a
    client that keeps its socket open after reading does not hold the stop for the timeout."""
    import io
    import threading

    from kmscli.serve import server as srv
    from kmscli.serve.app import KmsApp
    from kmscli.serve.log import RequestLog
    from serve_util import open_keyring

    make_keyring(tmp_path / "keyring")
    keyring = open_keyring(tmp_path / "keyring")
    keyring.master_key
    log = RequestLog("json", stream=io.StringIO())
    server = srv.build_server(KmsApp(keyring, log=log), "127.0.0.1", 0, tls_cert=None, tls_key=None, log=log,
                              socket_timeout=8)
    server.prepare()
    serving = threading.Thread(target=server.serve, daemon=True)
    serving.start()
    assert server.started(10)
    with socket.create_connection(server.bind_addr, timeout=5) as s:
        s.sendall(UNSIGNED[:-2])  # the body is still to come when the stop begins
        time.sleep(0.2)
        started = time.monotonic()
        stopping = threading.Thread(target=server.stop)
        stopping.start()
        time.sleep(0.3)
        s.sendall(b"{}")
        assert s.recv(65536).startswith(b"HTTP/1.1 400 ")  # answered, and the socket kept open
        stopping.join(30)
        serving.join(30)
        assert time.monotonic() - started < 4  # not the 8 s of a lingering close
