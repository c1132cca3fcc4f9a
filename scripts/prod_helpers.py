"""What scripts/prod.sh asks of Python: prod_helpers.py COMMAND ARGS...

  load-env FILE               `export NAME=value` lines for the file's variables not already set
                              (read as the settings read ENV_FILE: the environment wins)
  secrets FILE                write SECRET_KEY and FIELD_ENCRYPTION_KEYS into FILE (mode 600) once
  reachable URL...            exit 1, naming it, when a database or Redis URL's host:port does not answer
  create-database URL         create the PostgreSQL database of URL when missing; prints created/exists
  write-env FILE NAME...      write these variables of the environment to FILE (mode 600), quoted
                              for honcho (and `honcho export`)
  nginx-conf TEMPLATE OUTPUT  render deploy/nginx.conf.template (values from the environment)

nginx-conf: each dollar-brace NAME of the template takes the value below, checked first, since
it is pasted into nginx's syntax. A line ending in "# tls" is kept only with TLS_CERT and TLS_KEY,
"# plain" only without them, "# redirect" only with TLS and PROD_HTTP_PORT, "# root" only when
run as root.
"""

import ipaddress
import os
import pwd
import re
import secrets
import shlex
import socket
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

PLACEHOLDER = re.compile(r"\$\{([A-Z0-9_]+)\}")
MARKER = re.compile(r"\s*#\s*(tls|plain|redirect|root)\s*$")
SAFE_PATH = re.compile(r"[A-Za-z0-9_./+@-]+")
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class Refused(Exception):
    pass


# --- environment files ----------------------------------------------------------------------

def load_env(path):
    from dotenv import dotenv_values

    for name, value in dotenv_values(path).items():
        if NAME.fullmatch(name) and value is not None and name not in os.environ:
            print(f"export {name}={shlex.quote(value)}")


def write_private(path, text):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)


def make_secrets(path):
    if Path(path).exists():
        return
    from cryptography.fernet import Fernet

    write_private(path, "# Generated once by scripts/prod.sh for this machine's local layout. Keep it.\n"
                        f"SECRET_KEY={secrets.token_urlsafe(50)}\n"
                        f"FIELD_ENCRYPTION_KEYS={Fernet.generate_key().decode()}\n")
    print(f"Generated SECRET_KEY and FIELD_ENCRYPTION_KEYS into {path}", file=sys.stderr)


def write_env(path, names):
    lines = ["# Written by scripts/prod.sh: the layout's own values, for honcho (start and export)."]
    lines += [f"{name}={shlex.quote(os.environ[name])}" for name in names if name in os.environ]
    write_private(path, "\n".join(lines) + "\n")


# --- services -------------------------------------------------------------------------------

def _where(url):
    """host:port of a database or Redis URL, and a printable form of it without the password."""
    parts = urlsplit(url)
    if parts.scheme == "unix" or not parts.hostname:
        return None, None, f"{parts.scheme}://{parts.path}"
    default = 6379 if parts.scheme.startswith("redis") else 5432
    port = parts.port or default
    return parts.hostname, port, f"{parts.scheme}://{parts.hostname}:{port}{parts.path}"


def reachable(urls):
    for url in urls:
        host, port, shown = _where(url)
        if host is None:
            continue
        try:
            socket.create_connection((host, port), timeout=3).close()
        except OSError as exc:
            raise Refused(f"{shown} is not reachable ({exc.strerror or exc})") from None


def create_database(url):
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = unquote(parts.path.lstrip("/"))
    _, _, shown = _where(url)
    if not name:
        raise Refused(f"{shown} names no database")
    params = {"host": parts.hostname or "127.0.0.1", "port": parts.port or 5432, "dbname": "postgres",
              "user": unquote(parts.username or "") or None, "password": unquote(parts.password or "") or None,
              "connect_timeout": 5}
    try:
        with psycopg.connect(**{k: v for k, v in params.items() if v is not None}, autocommit=True) as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                print("exists")
                return
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.Error as exc:
        raise Refused(f"could not create the database of {shown}: {str(exc).strip().splitlines()[0]}") from None
    print("created")


# --- nginx ----------------------------------------------------------------------------------

def _port(name, required=True):
    value = os.environ.get(name, "").strip()
    if not value and not required:
        return ""
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise Refused(f"{name} must be a port number (1-65535), not {value!r}")
    return value


def _path(name):
    value = os.environ.get(name, "").strip()
    if not value or not SAFE_PATH.fullmatch(value) or not value.startswith("/"):
        raise Refused(f"{name} must be an absolute path of letters, digits and ._/+@- only, not {value!r}")
    if not Path(value).exists():
        raise Refused(f"{name}: {value} does not exist")
    return value.rstrip("/") or "/"


def _bind_address():
    value = os.environ.get("PROD_BIND", "127.0.0.1").strip()
    try:
        address = ipaddress.ip_address(value.strip("[]"))
    except ValueError:
        raise Refused(f"PROD_BIND must be an IP address (e.g. 127.0.0.1, 0.0.0.0 or ::), not {value!r}") from None
    return f"[{address}]" if address.version == 6 else str(address)


def nginx_values():
    tls = bool(os.environ.get("TLS_CERT") or os.environ.get("TLS_KEY"))
    found = {
        "PROD_VAR": _path("PROD_VAR"),
        "PROD_BIND": _bind_address(),
        "PROD_PORT": _port("PROD_PORT"),
        "PROD_HTTP_PORT": _port("PROD_HTTP_PORT", required=False),
        "GUNICORN_PORT": _port("GUNICORN_PORT"),
        "WS1_PORT": _port("WS1_PORT"),
        "WS2_PORT": _port("WS2_PORT"),
        "STATIC_ROOT": _path("STATIC_ROOT"),
        "NGINX_USER": pwd.getpwuid(os.getuid()).pw_name,
        "TLS_CERT": _path("TLS_CERT") if tls else "",
        "TLS_KEY": _path("TLS_KEY") if tls else "",
    }
    ports = [found[name] for name in ("PROD_PORT", "PROD_HTTP_PORT", "GUNICORN_PORT", "WS1_PORT", "WS2_PORT") if found[name]]
    if len(set(ports)) != len(ports):
        raise Refused("PROD_PORT, PROD_HTTP_PORT, GUNICORN_PORT, WS1_PORT and WS2_PORT must be different ports")
    kept = {"tls": tls, "plain": not tls, "redirect": tls and bool(found["PROD_HTTP_PORT"]), "root": os.getuid() == 0}
    return found, kept


def render(template, found, kept):
    def value(match):
        if match.group(1) not in found:
            raise Refused(f"the template names {match.group(0)}, which is not a known value")
        return found[match.group(1)]

    lines = []
    for line in template.splitlines():
        marker = MARKER.search(line)
        if marker:
            if not kept[marker.group(1)]:
                continue
            line = line[:marker.start()]
        lines.append(PLACEHOLDER.sub(value, line))
    return "\n".join(lines) + "\n"


def nginx_conf(template_path, output_path):
    found, kept = nginx_values()
    text = render(Path(template_path).read_text(), found, kept)
    output = Path(output_path)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text)


COMMANDS = {
    "load-env": (load_env, 1),
    "secrets": (make_secrets, 1),
    "reachable": (lambda *urls: reachable(urls), None),
    "create-database": (create_database, 1),
    "write-env": (lambda path, *names: write_env(path, names), None),
    "nginx-conf": (nginx_conf, 2),
}


def main(argv):
    if not argv or argv[0] not in COMMANDS:
        print(__doc__, file=sys.stderr)
        return 2
    command, arity = COMMANDS[argv[0]]
    if arity is not None and len(argv) - 1 != arity:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        command(*argv[1:])
    except Refused as exc:
        print(f"scripts/prod.sh: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
