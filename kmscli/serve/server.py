"""Listening: the HTTP server around the application, its limits, TLS, and a graceful stop.

The server is uvicorn, with httptools (llhttp, Node's HTTP parser, in C) and uvloop (libuv)
when they are installed: a few event loops (kmscli.serve.server.Server says why more than one) hold every connection, idle or not, and parse
requests in C, where cheroot (a pure-Python WSGI server, used before) spent most of the
server's CPU time per request in its own Python HTTP handling and in handing connections
between its threads. Operations that may wait run on a small thread pool (kmscli/serve/asgi.py).

What uvicorn does not do by itself, done here around it: a client that stalls mid-request
(or never sends a byte) is dropped after a timeout without progress, and one that trickles
a request slowly enough to never stall, once the request has taken a deadline; headers are
capped; the number of open connections is capped (a new one beyond it is closed at once);
the TLS handshake has the same timeout; a request refused (headers too large, malformed) is
answered in its turn, after those pipelined before it; a connection is closed as nginx's
lingering close does, so that a client still sending reads its answers rather than a reset;
uvicorn's own notes become one log line, never a traceback. The request body cap is the
application's (413 before reading a body announced too large). uvicorn's graceful stop
finishes the requests in flight.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import signal
import socket
import threading
import time

from ..errors import FileAccessException, KMSInternalException, ValidationException
from .log import RequestLog

DEFAULT_PORT = 9567
THREADS = 8  # workers for the operations that may wait (writes, RSA key generation)
SOCKET_TIMEOUT = 10  # seconds a client may stall mid-request (or before its first byte) before it is dropped
# Seconds a kept-alive connection may idle between requests. Longer than the stall timeout on
# purpose: SDK clients (the JS SDK's keep-alive agent, botocore's pool) keep idle connections
# without a timeout of their own, so a request sent as the server closes one meets a reset
# (found by tests/test_serve_js_sdk.py at 10 s). The longer the idle, the rarer that race;
# 75 s is nginx's default, above the 60 s that load balancers and the Java SDK use.
IDLE_TIMEOUT = 75
REQUEST_DEADLINE = 30  # seconds from a request's first byte to its last, however it trickles
MAX_HEADER = 64 << 10  # a request's bytes besides its body: request line, headers, chunk framing, trailers
PIECE = 16 << 10  # the parser is fed at most this much at a time (Guarded says why)
TOO_LARGE = "Request header fields too large"
LISTEN_BACKLOG = 128
MAX_CONNECTIONS = 512  # open connections; beyond it a new one is closed at once
SHUTDOWN_GRACE = 20  # seconds the requests in flight have to finish after SIGTERM
LOOPS = 4  # event loops (threads) serving connections; see Server
START_TIMEOUT = 30  # seconds for every loop to start accepting, or serve fails


def is_loopback(host: str) -> bool:
    """Whether every address ``host`` names is a loopback one (127.0.0.0/8, ::1)."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise ValidationException(f"--host {host[:80]!r} is not an address or a name this machine resolves") from None
    return bool(infos) and all(ipaddress.ip_address(info[4][0].split("%")[0]).is_loopback for info in infos)


def check_listen_options(host: str, port: int, tls_cert: str | None, tls_key: str | None) -> None:
    if (tls_cert is None) != (tls_key is None):
        raise ValidationException("--tls-cert and --tls-key go together")
    if not 0 <= port <= 65535:
        raise ValidationException("--port must be 0 to 65535 (0: a free one)")
    if tls_cert is None and not is_loopback(host):
        raise ValidationException(
            f"--host {host} is reachable from other machines: kmscli serve listens there only with TLS",
            hint="give --tls-cert FILE --tls-key FILE, or listen on loopback: --host 127.0.0.1",
        )


def endpoint_url(host: str, port: int, tls: bool) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"{'https' if tls else 'http'}://{shown}:{port}"


def build_server(
    app, host: str, port: int, *, tls_cert: str | None, tls_key: str | None, log: RequestLog,
    socket_timeout: float = SOCKET_TIMEOUT, threads: int = THREADS, max_connections: int = MAX_CONNECTIONS,
    request_deadline: float = REQUEST_DEADLINE, idle_timeout: float = IDLE_TIMEOUT,
) -> "Server":
    """The server, not yet listening (``prepare()`` binds it). The limits are parameters
    of the Python API so that tests can shorten them; the command line has none."""
    context = None
    if tls_cert is not None:
        import ssl

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        try:
            context.load_cert_chain(tls_cert, tls_key)
        except OSError as e:  # ssl.SSLError is one: a file missing, unreadable or not PEM
            raise FileAccessException(
                f"cannot use --tls-cert/--tls-key: {getattr(e, 'strerror', None) or e.__class__.__name__}"
            ) from None
    return Server(app, host, port, context=context, log=log, socket_timeout=socket_timeout, threads=threads,
                  max_connections=max_connections, request_deadline=request_deadline, idle_timeout=idle_timeout)


class Server:
    """``loops`` event loops, each in a thread of its own, accept on one listening socket and
    serve the connections each accepted. One loop would do the work (the GIL lets one run
    Python at a time), but Linux's scheduler shares the cores out per thread: with clients
    on the same cores, one busy thread is scheduled last (it has used the most CPU), and the
    server waits its turn at every request. Spread over a few threads, the same work waits
    less (measured: bench/serve_load.py, README)."""

    def __init__(self, app, host, port, *, context, log, socket_timeout, threads, max_connections, request_deadline,
                 idle_timeout=IDLE_TIMEOUT, loops=LOOPS):
        from concurrent.futures import ThreadPoolExecutor

        import uvicorn

        from .asgi import AsgiApp

        self.host, self.port, self.context, self.log, self.timeout = host, port, context, log, socket_timeout
        self.executor = ThreadPoolExecutor(threads, thread_name_prefix="kmscli-serve")
        config = uvicorn.Config(
            AsgiApp(app, self.executor),
            http=_guarded_protocol(socket_timeout, max_connections, MAX_HEADER, request_deadline),
            loop=_loop_name(),
            interface="asgi3",
            lifespan="off",
            ws="none",
            proxy_headers=False,
            server_header=False,
            date_header=True,  # the SDKs correct a skewed clock from it, as AWS sends it
            access_log=False,
            log_config=None,
            log_level="warning",
            timeout_keep_alive=idle_timeout,
            timeout_graceful_shutdown=SHUTDOWN_GRACE,
            backlog=LISTEN_BACKLOG,
        )
        config.load()
        config.ssl = context
        self.config = config
        _route_uvicorn_notes(log)
        self.servers = [uvicorn.Server(config) for _ in range(loops)]
        self.socket = None
        self.bind_addr = (host, port)
        self.failure: BaseException | None = None  # what stopped a loop, if anything did
        self._done = threading.Event()

    def prepare(self) -> None:
        """Bind and listen (OSError when the address is taken)."""
        # A name (localhost) is resolved, as check_listen_options did: its first address.
        family, _, _, _, address = socket.getaddrinfo(
            self.host, self.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(address)
            sock.listen(LISTEN_BACKLOG)
        except OSError:
            sock.close()
            raise
        sock.setblocking(False)
        self.socket = sock
        self.bind_addr = sock.getsockname()[:2]

    def serve(self) -> None:
        """Run until ``stop()``; then the requests in flight finish (uvicorn's graceful stop)."""
        others = [threading.Thread(target=self._run, args=(s,), name="kmscli-serve-loop", daemon=True)
                  for s in self.servers[1:]]
        for thread in others:
            thread.start()
        try:
            self._run(self.servers[0])
            for thread in others:
                thread.join(SHUTDOWN_GRACE + 5)
        finally:
            self.executor.shutdown(wait=True)
            self.socket.close()
            self._done.set()

    def started(self, timeout: float) -> bool:
        """Wait until every loop accepts connections (True), or one has failed or the wait
        is over (False)."""
        deadline = time.monotonic() + timeout
        while not all(s.started for s in self.servers):
            if self.failure is not None or self._done.is_set() or time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def _run(self, server) -> None:
        """One loop, until it stops; what stops it otherwise stops every loop (uvicorn may
        even sys.exit() from a loop thread), and is kept in ``failure`` for serve() to tell."""
        try:
            self._run_loop(server)
        except BaseException as e:  # noqa: BLE001 - reported by serve(), not lost in a thread
            if self.failure is None:
                self.failure = e
            for other in self.servers:
                other.should_exit = True

    def _run_loop(self, server) -> None:
        loop = self.config.get_loop_factory()()
        if self.context is not None:
            # asyncio's TLS handshake and shutdown timeouts are 60 and 30 s; a stalled
            # handshake, or a peer that never answers close_notify, gets the same timeout as
            # any other stalled client.
            create_server = loop.create_server
            loop.create_server = functools.partial(
                create_server, ssl_handshake_timeout=self.timeout, ssl_shutdown_timeout=self.timeout
            )
        try:
            # Each loop's own listener on the one socket (uvicorn closes what it was given).
            loop.run_until_complete(server.serve(sockets=[self.socket.dup()]))
        finally:
            loop.close()

    def stop(self) -> None:
        """Stop accepting, let the requests in flight finish, and return once stopped."""
        for server in self.servers:
            server.should_exit = True
        self._done.wait(SHUTDOWN_GRACE + 10)


def raise_open_files_limit() -> None:
    """The soft limit on open files raised to the hard one, as Go's runtime and nginx do.
    The connection cap (512) is well under any default, but it counts a TLS connection only
    once its handshake is done (the event loop hands the connection over then), and until
    then, up to the 10 s handshake timeout, it holds a file descriptor: at a common soft
    limit of 1,024, 100 new connections a second that never finish a handshake would leave
    the server none to accept with, or to open the keyring's files with."""
    import resource

    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        wanted = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 16)
        if soft != resource.RLIM_INFINITY and soft < wanted:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    except (ValueError, OSError):
        pass  # a limit the system will not raise: serve with the one there is


def _loop_name() -> str:
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return "asyncio"
    return "uvloop"


def _route_uvicorn_notes(log: RequestLog) -> None:
    """uvicorn's own notes (a malformed request, a client gone) as one line in kmscli's log,
    never a traceback; its info lines (started, shutting down) are kmscli's own to say."""

    class ToRequestLog(logging.Handler):
        def emit(self, record):
            try:
                detail = " ".join(record.getMessage().split())[:200]
            except Exception:  # noqa: BLE001 - a note never fails the server
                detail = "?"
            log.event("connection error", detail=detail)

    for name in ("uvicorn", "uvicorn.error", "uvicorn.asgi"):
        logger = logging.getLogger(name)
        logger.handlers = [ToRequestLog(logging.WARNING)]
        logger.propagate = False
        logger.setLevel(logging.WARNING)


def _guarded_protocol(timeout: float, max_connections: int, max_header: int, deadline: float):
    """uvicorn's httptools protocol, with the limits it lacks (see the module's docstring)."""
    import httptools
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    everyone = set()  # the open connections of every loop (set.add and discard are atomic)

    class Guarded(HttpToolsProtocol):
        """What a request may send besides its body (request line, headers, chunk framing,
        trailers) is counted against ``max_header``. The parser hands over a header only
        once it is whole, so the bytes of a request that began in an earlier piece of input
        are counted whole (less its body); those of one that began in this piece, header by
        header. A refused request (too large, or one the parser rejects) is answered 400 in
        its turn: after the answers owed to the requests pipelined before it. A connection
        closes lingering (``_linger``), and a client's half-close waits for the answers
        it is owed (``eof_received``)."""

        def connection_made(self, transport):
            super().connection_made(transport)
            self._one_write = OneWrite(transport, self._linger)
            self._overhead = 0  # the current request's bytes that are not its body
            self._in_message = False
            self._headers_done = False
            self._begun_in_piece = False
            self._body_in_piece = 0
            self._refusal = None  # the 400's text, once a request is refused
            self._lingering = False  # answered, FIN sent; what the client still sends is dropped
            self._eof = False  # the client has half-closed: it sends nothing more
            self._stopping = False  # the server stops: no lingering
            self._write_timer = None  # runs while the client does not read its answers
            self._close_timer = None  # runs while a closing connection holds unread answers
            self._waiting = True  # for the bytes of a request: the stall timer runs
            self._request_started = None  # the time of the current request's first byte
            self._last_progress = self.loop.time()
            self._stall_timer = self.loop.call_later(timeout, self._check_stall)
            everyone.add(self)
            if len(everyone) > max_connections:
                transport.close()  # a flood: refuse rather than run out of file descriptors

        def _check_stall(self):
            # Re-armed lazily: data_received only notes the time, which is cheaper than
            # moving a timer at each read.
            self._stall_timer = None
            if not self._waiting or self.transport.is_closing():
                return
            now = self.loop.time()
            left = timeout - (now - self._last_progress)
            if self._request_started is not None:  # a client trickling a byte at a time
                left = min(left, deadline - (now - self._request_started))
            if left <= 0:
                self._drop()
            else:
                self._stall_timer = self.loop.call_later(left, self._check_stall)

        def _drop(self):
            # Closed at once: close() would first wait for the answers already written to
            # be read, which a client that stopped reading never does.
            if self.transport.get_write_buffer_size():
                self.transport.abort()
            else:
                self.transport.close()

        def _closing(self):
            # A closing connection waits for its answers to be read; one whose client
            # reads nothing (below the write buffer's high water, so pause_writing never
            # ran) would wait forever, counted against max_connections.
            if self._close_timer is None and self.transport.get_write_buffer_size():
                self._close_timer = self.loop.call_later(timeout, self.transport.abort)

        def data_received(self, data):
            if self._refusal is not None or self._lingering:
                return  # refused or closing: what the client still sends is read and dropped
            self._last_progress = self.loop.time()
            if self._request_started is None:
                self._request_started = self._last_progress
            if not self._waiting:
                self._waiting = True
                if self._stall_timer is None:
                    self._stall_timer = self.loop.call_later(timeout, self._check_stall)
            if len(data) <= PIECE:
                self._feed(data)
                return
            # Fed a piece at a time, so that what the parser holds back (a header not yet
            # whole) is never more than one piece beyond what has been counted.
            view = memoryview(data)
            for start in range(0, len(data), PIECE):
                self._feed(view[start:start + PIECE])
                if self._refusal is not None or self.transport.is_closing():
                    return

        def _feed(self, piece):
            continued = self._in_message  # a request that began in an earlier piece
            self._begun_in_piece = False
            self._body_in_piece = 0
            self._unset_keepalive_if_required()
            try:
                self.parser.feed_data(piece)
            except httptools.HttpParserUpgrade:
                self._unsupported_upgrade_warning()  # as uvicorn does: ws is off
            except httptools.HttpParserError:  # malformed, or refused by a callback below
                if self._refusal is None:
                    self._refuse("Invalid HTTP request received.")
                return
            if continued and not self._begun_in_piece:
                self._overhead += len(piece) - self._body_in_piece
                if self._in_message and self._overhead > max_header:
                    self._refuse(TOO_LARGE)

        def _count(self, size):
            if self._begun_in_piece:
                self._overhead += size
                if self._overhead > max_header:
                    self._refuse(TOO_LARGE)
                    raise _Refused  # stops the parser: what follows is not this server's to read

        def _refuse(self, text):
            self._refusal = text
            self._waiting = False  # nothing more is read: no stall to time
            self.logger.warning(text)  # one line in the log (_route_uvicorn_notes)
            if self.transport.is_closing() or self._lingering:
                return
            self.transport.pause_reading()
            refused = self.cycle if self._in_message and self._headers_done else None
            if refused is None:  # refused before its headers were whole: it has no cycle
                owed = self.cycle is not None and not self.cycle.response_complete
            elif refused.response_started:  # answered before its body's end: no place for a 400
                self.transport.abort()
                return
            else:  # refused in its body or trailers: not run, or left waiting for a body that never comes
                owed = False
                for entry in self.pipeline:
                    if entry[0] is refused:
                        self.pipeline.remove(entry)
                        owed = True  # it waited behind a running request
                        break
                # Ended: its application (running, or yet to run its first step) reads a
                # disconnect, and writes nothing, not even a 100 Continue, after the 400.
                refused.waiting_for_100_continue = False
                refused.disconnected = True
                refused.message_event.set()
            if not owed:
                self._send_refusal()

        def _send_refusal(self):
            text = self._refusal.encode("ascii")
            head = [b"HTTP/1.1 400 Bad Request\r\n"]
            head += [name + b": " + value + b"\r\n" for name, value in self.server_state.default_headers]
            head.append(b"content-type: text/plain; charset=utf-8\r\ncontent-length: %d\r\n"
                        b"connection: close\r\n\r\n" % len(text))
            self.transport.write(b"".join(head) + text)
            self._linger()

        def _linger(self):
            """Close after the answers written so far, as nginx's lingering close does: a
            FIN after them, then what the client still sends (the rest of a body refused
            as too large, requests pipelined behind) is read and dropped until it closes,
            ``timeout`` at most. Closed at once instead, a socket with unread input is reset,
            and the reset destroys the answers the client has not read yet."""
            self._lingering = True
            self._waiting = False
            self._unset_keepalive_if_required()
            self._one_write.ended = True  # nothing is written after the FIN
            if self.transport.is_closing():
                self._closing()
                return
            if self._eof or self._stopping or not self.transport.can_write_eof():
                # Closed now: the client sends nothing more, or the server stops, or TLS
                # (no half-close: its close_notify, then the close).
                self.transport.close()
                self._closing()
                return
            self.transport.write_eof()
            self.transport.resume_reading()
            if self._close_timer is None:
                self._close_timer = self.loop.call_later(timeout, self.transport.abort)

        def on_message_begin(self):
            super().on_message_begin()
            self._overhead = 0
            self._in_message = True
            self._headers_done = False
            self._begun_in_piece = True

        def on_url(self, url):
            super().on_url(url)
            self._count(len(url))

        def on_header(self, name, value):
            super().on_header(name, value)  # trailers too: their count is this request's
            self._count(len(name) + len(value) + 4)  # ": " and CRLF

        def on_headers_complete(self):
            super().on_headers_complete()  # may raise (a URL llhttp took and uvicorn does not)
            self._headers_done = True  # only now is self.cycle this request's
            if self.cycle is not None:
                self.cycle.transport = self._one_write  # before its task first runs

        def on_body(self, body):
            self._body_in_piece += len(body)
            super().on_body(body)

        def on_message_complete(self):
            super().on_message_complete()
            self._in_message = False
            self._request_started = None
            self._waiting = False  # the request is whole: what follows is the application's time

        def on_response_complete(self):
            self._one_write.flush()  # a response without a body (HEAD) has no second write
            if self._lingering:  # the response said Connection: close; nothing after it is run
                self.server_state.total_requests += 1
                return
            last = not self.pipeline  # of the answers owed: a refusal or the client's EOF is next
            super().on_response_complete()
            if self.transport.is_closing():
                self._closing()
            elif last and self._refusal is not None:
                self._send_refusal()
            elif last and self._eof:
                self.transport.close()
                self._closing()

        def eof_received(self):
            # The client half-closed (sent all it will): the answers still owed are written
            # before the close (uvicorn closes at once, losing them).
            self._eof = True
            owed = (self._refusal is not None or self.pipeline
                    or (self.cycle is not None and not self.cycle.response_complete and not self._in_message))
            return True if owed and not self._lingering else None  # True: the transport stays open to write

        def pause_writing(self):
            # The client has stopped reading its answers (a pipelining client that never
            # reads would otherwise hold its connection, and a server stop, forever).
            super().pause_writing()
            if self._write_timer is None:
                self._write_timer = self.loop.call_later(timeout, self.transport.abort)

        def resume_writing(self):
            if self._write_timer is not None:
                self._write_timer.cancel()
                self._write_timer = None
            super().resume_writing()

        def timeout_keep_alive_handler(self):
            if self.transport.get_write_buffer_size():
                self.transport.abort()  # idle because it reads nothing: close() would wait for it
            else:
                super().timeout_keep_alive_handler()

        def shutdown(self):
            self._stopping = True
            if self._lingering:
                self.transport.close()  # its answers have been written; no longer waiting for the client
            elif self.transport.get_write_buffer_size() and self._write_timer is not None:
                self.transport.abort()  # an answer the client is not reading: not worth waiting for
            elif self.cycle is None or self.cycle.response_complete:
                # Idle at the stop: closed without TLS's close_notify exchange, which a
                # keep-alive client that is not reading would leave waiting its timeout.
                self.transport.abort()
            else:
                super().shutdown()  # answered first, then closed

        def connection_lost(self, exc):
            everyone.discard(self)
            for timer in (self._stall_timer, self._write_timer, self._close_timer):
                if timer is not None:
                    timer.cancel()
            self._stall_timer = self._write_timer = self._close_timer = None
            super().connection_lost(exc)

    return Guarded


class _Refused(Exception):
    """Raised from a parser callback to stop the parser at a refused request."""


class OneWrite:
    """The transport as a response sees it: the status line and headers are held until the
    body follows, so that both leave in one send(). uvicorn writes them apart: two TCP
    segments, two wake-ups of the client, and on loopback the kernel's delivery of each
    charged to this process. A 100 Continue is not held: the client waits for it."""

    __slots__ = ("transport", "held", "on_close", "ended")

    def __init__(self, transport, on_close):
        self.transport = transport
        self.held = None
        self.on_close = on_close  # the protocol's lingering close
        self.ended = False  # a FIN has been sent: what a response still writes is dropped

    def write(self, data):
        if self.ended:
            return
        if self.held is not None:
            data, self.held = self.held + data, None
        elif data.startswith(b"HTTP/1.1 ") and not data.startswith(b"HTTP/1.1 100 "):
            self.held = data
            return
        self.transport.write(data)

    def flush(self):
        if self.held is not None and not self.ended:
            data, self.held = self.held, None
            self.transport.write(data)

    def close(self):
        self.flush()
        self.on_close()

    def __getattr__(self, name):
        return getattr(self.transport, name)


def serve(app, host: str, port: int, *, tls_cert=None, tls_key=None, log: RequestLog, on_listening) -> None:
    """Listen until SIGTERM or SIGINT, then let the requests in flight finish and return.
    ``on_listening(url)`` is called once the socket listens."""
    server = build_server(app, host, port, tls_cert=tls_cert, tls_key=tls_key, log=log)
    raise_open_files_limit()
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        try:
            server.prepare()
        except OSError as e:
            raise FileAccessException(f"cannot listen on {host}:{port}: {e.strerror or e}") from None
        bound_port = server.bind_addr[1]
        thread = threading.Thread(target=server.serve, name="kmscli-serve", daemon=True)
        thread.start()
        if server.started(timeout=START_TIMEOUT):  # announced only once every loop accepts
            on_listening(endpoint_url(host, bound_port, tls_cert is not None))
            log.event("listening", endpoint=endpoint_url(host, bound_port, tls_cert is not None))
            while not stop.wait(0.5) and thread.is_alive() and server.failure is None:
                pass
            log.event("stopping: finishing the requests in flight")
        elif server.failure is None and not stop.is_set():  # neither failed nor stopped: stuck
            server.failure = TimeoutError(f"its event loops did not start within {START_TIMEOUT} s")
        server.stop()  # stops accepting, then waits for the workers' current requests
        thread.join(SHUTDOWN_GRACE)
        if server.failure is not None:
            failure = server.failure
            detail = " ".join(str(failure).split())[:200] or "no detail"
            log.event("stopped on an error", error=type(failure).__name__, detail=detail)
            # The server's own failure (a request's is answered, never raised): one line, exit 5.
            raise KMSInternalException(f"kmscli serve stopped: {type(failure).__name__}: {detail}")
        log.event("stopped")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
