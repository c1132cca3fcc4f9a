"""daphne for the helpdesk's websockets: `python -m helpdesk.ws_server [daphne's options] helpdesk.asgi:application`.

Three defaults differ from daphne's own (its options still override them), and one of Python's:
- --websocket-max-frame-size and --websocket-max-message-size are CHAT_MAX_FRAME_BYTES, not 1 MiB:
  autobahn compares a frame's length, read from its header, with them and closes the connection
  with 1009 (a closing handshake, not a dropped connection) before the payload is buffered; no
  socket of the helpdesk takes larger frames.
- the soft limit on open files is raised to the hard limit: every socket is a file descriptor,
  and the usual soft limit (1,024) would cap the process near a thousand sockets.
- --websocket_connect_timeout is 30 s, not 5: a process that just took over the sockets of one
  that died answers hundreds of handshakes at once, each checked in its one database thread; at
  5 s daphne dropped the slow ones without an answer and their pages retried into the same queue.
- the interpreter's thread switch interval is 0.5 ms, not 5: the event loop gives up the GIL at
  every socket write, and while the database thread was busy each write then waited up to 5 ms
  for it. A process that took over a dead one's sockets answered its clients' pings so late that
  they gave up (bench.chatload: 432 reconnects of the 250 customers moved at 5 ms, 250-274 at 0.5 ms).
"""

import os
import resource
import sys

from daphne.cli import CommandLineInterface
from daphne.server import Server
from twisted.internet import reactor

SWITCH_INTERVAL = 0.0005  # seconds


def raise_open_files_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):  # an unlimited hard limit, which some systems refuse as a soft one
            pass


class HelpdeskServer(Server):
    def run(self):
        reactor.callWhenRunning(self._close_cleanly)
        super().run()

    def _close_cleanly(self):
        # autobahn's servers drop the TCP connection on a refused frame (the client sees 1006);
        # a closing handshake tells the client why (1009). The rest of the frame is read and discarded.
        self.ws_factory.setProtocolOptions(failByDrop=False)


class HelpdeskCommandLine(CommandLineInterface):
    server_class = HelpdeskServer

    def __init__(self):
        super().__init__()
        from django.conf import settings

        self.parser.set_defaults(websocket_max_frame_size=settings.CHAT_MAX_FRAME_BYTES,
                                 websocket_max_message_size=settings.CHAT_MAX_FRAME_BYTES,
                                 websocket_connect_timeout=30)


def trace_memory(path):
    """Profiling (bench.connections --profile): each SIGUSR1 takes a tracemalloc snapshot and
    writes what grew since the previous one to path."""
    import signal
    import tracemalloc

    tracemalloc.start(8)
    previous = [None]

    def dump(signum, frame):
        snapshot = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(False, tracemalloc.__file__)])
        if previous[0] is not None:
            with open(path, "w") as out:
                for kind in ("lineno", "traceback"):
                    stats = snapshot.compare_to(previous[0], kind)
                    out.write(f"--- by {kind}: total growth {sum(s.size_diff for s in stats) / 1024:.0f} KiB\n")
                    for stat in stats[:30 if kind == "lineno" else 8]:
                        out.write(f"{stat.size_diff / 1024:10.1f} KiB {stat.count_diff:8d} blocks  ")
                        out.write("\n        ".join(stat.traceback.format()[-8 if kind == "traceback" else -1:]) + "\n")
        previous[0] = snapshot

    signal.signal(signal.SIGUSR1, dump)


def main(argv=None):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
    raise_open_files_limit()
    sys.setswitchinterval(SWITCH_INTERVAL)
    if os.environ.get("HELPDESK_TRACEMALLOC_FILE"):
        trace_memory(os.environ["HELPDESK_TRACEMALLOC_FILE"])
    HelpdeskCommandLine().run(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    main()
