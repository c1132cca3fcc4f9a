"""A real HTTP receiver on loopback for outgoing requests: records what arrives (POST or GET), answers
a set status (with a set body and headers, if given)."""

import http.server
import socket
import threading


class Receiver:
    def __init__(self, port=0, status=200):
        self.status = status
        self.body = None
        self.headers = {}
        self.received = []
        self.port = port or _free_port()
        self.server = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/hooks/helpdesk"

    def start(self):
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.received.append((dict(self.headers), body))
                self.send_response(receiver.status)
                for name, value in receiver.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(receiver.body or (b"thanks" if receiver.status < 300 else b"try later"))

            do_GET = do_POST  # noqa: N815

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
