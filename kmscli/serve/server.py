"""Listening: the HTTP server around the WSGI app, its limits, TLS, and a graceful stop.

The server is cheroot (CherryPy's WSGI server): pure Python, a pool of worker threads (the
service functions block on files and the keyring lock, so threads are the right model), and
every limit a hostile local client calls for built in: a request-body cap (413 before the
body is read), a header-size cap, a per-socket timeout for slow or stalled clients, a bounded
queue of accepted connections and a bounded number of idle keep-alive connections, kept in a
selector rather than a thread each. It also terminates TLS itself (the ssl module), which
``--host`` beyond loopback requires; waitress, the other well-kept pure-Python choice, has
no TLS and would need a proxy in front.
"""

from __future__ import annotations

import ipaddress
import logging
import signal
import socket
import threading

from ..errors import FileAccessException, ValidationException
from .app import MAX_BODY
from .log import RequestLog

DEFAULT_PORT = 9567
THREADS = 32
SOCKET_TIMEOUT = 10  # seconds a client may stall mid-request before it is dropped
MAX_HEADER = 64 << 10
LISTEN_BACKLOG = 128
ACCEPTED_QUEUE = 256  # connections waiting for a worker; beyond it, 503
KEEP_ALIVE_LIMIT = 256  # idle keep-alive connections kept open after a response
MAX_WAITING = 512  # connections waiting for their first bytes; beyond it a new one is closed
SHUTDOWN_GRACE = 20  # seconds the requests in flight have to finish after SIGTERM


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
    socket_timeout: float = SOCKET_TIMEOUT, threads: int = THREADS, max_waiting: int = MAX_WAITING,
):
    """The server, not yet listening (``prepare()`` binds it). The limits are parameters
    of the Python API so that tests can shorten them; the command line has none."""
    from cheroot import server as http, wsgi
    from cheroot.makefile import StreamWriter

    class HeldWriter(StreamWriter):
        # cheroot sends a response's headers and its body with a send() each: two TCP
        # segments, two wake-ups of the client, and on loopback the kernel's delivery of
        # each charged to this process. While ``held``, a write only joins the buffer, so
        # the headers leave with the body in one send().
        held = False

        def write(self, b):
            if not self.held:
                return super().write(b)
            self._checkClosed()
            with self._write_lock:
                self._write_buf.extend(b)
            self.bytes_written += len(b)
            return len(b)

    class Request(http.HTTPRequest):
        def send_headers(self):
            wfile = self.conn.wfile
            wfile.held = isinstance(wfile, HeldWriter)
            try:
                super().send_headers()
            finally:
                wfile.held = False

        def respond(self):
            try:
                super().respond()
            except BaseException:
                try:
                    self.conn.wfile.flush()  # as before: what was answered goes out
                except (OSError, ValueError):
                    pass  # the client is gone; cheroot handles the error being raised
                raise
            self.conn.wfile.flush()  # headers still held when no body followed them

    class Connection(http.HTTPConnection):
        RequestHandlerClass = Request

        def __init__(self, server, sock, makefile=http.MakeFile):
            super().__init__(server, sock, makefile)
            self.wfile = HeldWriter(sock, "wb", self.wbufsize)  # what makefile gives, TLS or not

    class Server(wsgi.Server):
        ConnectionClass = Connection

        def process_conn(self, conn):
            # cheroot hands a new connection to a worker at once, so connections that
            # never send a byte would each hold a worker thread for the socket timeout.
            # Here a new connection first waits in the selector, as an idle keep-alive one
            # does (expired after the same timeout), and takes a worker only once its first
            # bytes arrive.
            if not getattr(conn, "kmscli_spoke", False):
                conn.kmscli_spoke = True
                if self.ready and not conn.rfile.has_data():
                    if len(self._connections._selector) >= max_waiting:
                        conn.close()  # a flood of silent connections: refuse rather than run out of files
                        return
                    self._connections.put(conn)
                    return
            super().process_conn(conn)

        def error_log(self, msg="", level=logging.INFO, traceback=False):
            # cheroot's own notes (a client that went away, a bad TLS handshake): one line,
            # never a traceback.
            if level >= logging.WARNING:
                log.event("connection error", detail=" ".join(str(msg).split())[:200])

    server = Server(
        (host, port),
        app,
        numthreads=threads,
        max=threads,
        request_queue_size=LISTEN_BACKLOG,
        timeout=socket_timeout,
        shutdown_timeout=SHUTDOWN_GRACE,
        accepted_queue_size=ACCEPTED_QUEUE,
        accepted_queue_timeout=socket_timeout,
        server_name="kmscli",
    )
    server.max_request_body_size = MAX_BODY
    server.max_request_header_size = MAX_HEADER
    server.keep_alive_conn_limit = KEEP_ALIVE_LIMIT
    if tls_cert is not None:
        from cheroot.ssl.builtin import BuiltinSSLAdapter

        class LazyHandshake(BuiltinSSLAdapter):
            # cheroot's adapter completes the TLS handshake on the thread that accepts
            # connections, so one client stalling its handshake would hold up every new
            # connection for the socket timeout. Here OpenSSL does the handshake at the first
            # read, on the worker that reads the request (after the connection showed data).
            def wrap(self, sock):
                return self.context.wrap_socket(sock, do_handshake_on_connect=False, server_side=True), {
                    "wsgi.url_scheme": "https",
                    "HTTPS": "on",
                }

        try:
            server.ssl_adapter = LazyHandshake(tls_cert, tls_key)
        except OSError as e:  # ssl.SSLError is one: a file missing, unreadable or not PEM
            raise FileAccessException(
                f"cannot use --tls-cert/--tls-key: {getattr(e, 'strerror', None) or e.__class__.__name__}"
            ) from None
    return server


def serve(app, host: str, port: int, *, tls_cert=None, tls_key=None, log: RequestLog, on_listening) -> None:
    """Listen until SIGTERM or SIGINT, then let the requests in flight finish and return.
    ``on_listening(url)`` is called once the socket listens."""
    server = build_server(app, host, port, tls_cert=tls_cert, tls_key=tls_key, log=log)
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
        on_listening(endpoint_url(host, bound_port, tls_cert is not None))
        log.event("listening", endpoint=endpoint_url(host, bound_port, tls_cert is not None))
        while not stop.wait(0.5) and thread.is_alive():
            pass
        log.event("stopping: finishing the requests in flight")
        server.stop()  # stops accepting, then waits for the workers' current requests
        thread.join(SHUTDOWN_GRACE)
        log.event("stopped")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
