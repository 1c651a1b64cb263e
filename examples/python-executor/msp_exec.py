#!/usr/bin/env python3
"""msp_exec.py - a second MSP executor, Python 3 standard library only.

Written from docs/wire-contract.md and docs/executor-protocol.md alone, to
show that the contract fixtures judge any executor the same way:

    msp-contract verify --executor-cmd 'python3 examples/python-executor/msp_exec.py'

It sends one POST /api/v1/god-mode/execute and maps every outcome to
{exit_code, stdout, stderr} by the 14-row exit table. HTTP is spoken over a
plain socket (ssl for https://) so that one deadline bounds every step,
including a reply that trickles in byte by byte.
"""

import json
import os
import socket
import sys
import time
import urllib.parse

RESPONSE_CAP = 16 * 1024 * 1024  # bytes of body, rows 5
HEADER_CAP = 64 * 1024  # status line and headers
DEFAULT_TIMEOUT_MS = 30000
MAX_TIMEOUT_MS = 86400000
VERSION = "0.1.0"
PREFIX = "msp-executor: "


class Transport(Exception):
    """Row 3 (no status line yet) or row 4 (a status line had arrived)."""

    row = 3


class TooLarge(Exception):
    """Row 5."""


def result(code, out="", err=""):
    return {"exit_code": code, "stdout": out, "stderr": err}


# ---- the context, read with the exact text of params --------------------


def members(text):
    """The top-level members of a JSON object as (name, value, raw text);
    the first of duplicate names wins, as the reference does."""
    dec = json.JSONDecoder(parse_constant=reject_constant)
    ws = " \t\n\r"
    i = 0
    while i < len(text) and text[i] in ws:
        i += 1
    if i >= len(text) or text[i] != "{":
        raise ValueError("the context is not a JSON object")
    i += 1
    out = {}
    while True:
        while i < len(text) and text[i] in ws:
            i += 1
        if i < len(text) and text[i] == "}":
            i += 1
            break
        name, i = dec.raw_decode(text, i)
        if not isinstance(name, str):
            raise ValueError("a member name is not a string")
        while i < len(text) and text[i] in ws:
            i += 1
        if i >= len(text) or text[i] != ":":
            raise ValueError("':' expected")
        i += 1
        while i < len(text) and text[i] in ws:
            i += 1
        start = i
        value, i = dec.raw_decode(text, i)
        out.setdefault(name, (value, text[start:i]))
        while i < len(text) and text[i] in ws:
            i += 1
        if i < len(text) and text[i] == ",":
            i += 1
            continue
        if i < len(text) and text[i] == "}":
            i += 1
            break
        raise ValueError("',' or '}' expected")
    if text[i:].strip(ws):
        raise ValueError("text after the context object")
    return out


def reject_constant(name):
    raise ValueError("not JSON: " + name)


def compact(text):
    """JSON text without the whitespace outside strings (strings as written)."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i : j + 1])
            i = j + 1
        elif c in " \t\n\r":
            i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def strict_json(body):
    """(value, text) of an RFC 8259 JSON body, or None when it is not JSON."""
    try:
        text = body.decode("utf-8")

        def keep_first(pairs):
            d = {}
            for k, v in pairs:
                d.setdefault(k, v)
            return d

        value = json.loads(
            text, parse_constant=reject_constant, object_pairs_hook=keep_first
        )
        return value, text
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


def has_control(s):
    return any(ord(c) < 0x20 or ord(c) == 0x7F for c in s)


def invalid_request(ctx):
    """Row 2: why the context cannot go on the wire, or None."""
    cid, tool, corr = ctx["command_id"], ctx["tool"], ctx["correlation_id"]
    if not cid:
        return "command_id is empty"
    if has_control(cid):
        return "command_id contains a control byte (CR, LF or other)"
    if not tool:
        return "tool is empty"
    if len(tool.encode("utf-8")) > 256:
        return "tool is longer than 256 bytes (%d)" % len(tool.encode("utf-8"))
    if corr is not None:
        if corr == "":
            return "correlation_id is empty"
        if len(corr.encode("utf-8")) > 256:
            return "correlation_id is longer than 256 bytes (%d)" % len(
                corr.encode("utf-8")
            )
        if has_control(corr):
            return "correlation_id contains a control byte (CR, LF or other)"
    if not ctx["params_text"].startswith("{"):
        return "params_json is not a JSON object"
    return None


# ---- HTTP over a socket, bounded by one deadline ------------------------


class Conn:
    def __init__(self, sock, deadline):
        self.sock, self.deadline, self.buf = sock, deadline, b""
        self.got_status = False

    def left(self):
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise Transport("Operation timed out")
        return left

    def fill(self):
        self.sock.settimeout(self.left())
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            raise Transport("Operation timed out")
        except OSError as e:
            raise Transport("Recv failure: " + (e.strerror or str(e)))
        if not data:
            raise EOFError
        self.buf += data

    def line(self, cap):
        while b"\r\n" not in self.buf:
            if len(self.buf) > cap:
                raise Transport("header line too long")
            try:
                self.fill()
            except EOFError:
                raise Transport("connection closed")
        line, _, self.buf = self.buf.partition(b"\r\n")
        return line

    def exactly(self, n):
        while len(self.buf) < n:
            try:
                self.fill()
            except EOFError:
                raise Transport("transfer closed with outstanding read data")
        data, self.buf = self.buf[:n], self.buf[n:]
        return data


def read_body(conn, headers):
    te = headers.get("transfer-encoding", "").lower()
    if "chunked" in te:
        body = b""
        while True:
            size_line = conn.line(1024).split(b";")[0].strip()
            try:
                if not size_line or any(c not in b"0123456789abcdefABCDEF" for c in size_line):
                    raise ValueError
                size = int(size_line, 16)
            except ValueError:
                raise Transport("invalid chunk size")
            if size == 0:
                while conn.line(HEADER_CAP) != b"":
                    pass
                return body
            if len(body) + size > RESPONSE_CAP:
                raise TooLarge
            body += conn.exactly(size)
            if conn.exactly(2) != b"\r\n":
                raise Transport("invalid chunk end")
    if "content-length" in headers:
        try:
            n = int(headers["content-length"])
            if n < 0:
                raise ValueError
        except ValueError:
            raise Transport("invalid Content-Length")
        if n > RESPONSE_CAP:
            raise TooLarge
        return conn.exactly(n)
    body = conn.buf
    conn.buf = b""
    while True:  # until the server closes
        if len(body) > RESPONSE_CAP:
            raise TooLarge
        try:
            conn.fill()
        except EOFError:
            return body
        body += conn.buf
        conn.buf = b""


def exchange(url, key, ctx, deadline):
    """Sends the request; returns (status, body)."""
    u = urllib.parse.urlsplit(url)
    host = u.hostname
    port = u.port or (443 if u.scheme == "https" else 80)
    path = (u.path.rstrip("/") if u.path != "/" else "") + "/api/v1/god-mode/execute"
    body = (
        '{"tool":'
        + json.dumps(ctx["tool"])
        + ',"params":'
        + ctx["params_text"]
        + ',"simulate":false}'
    ).encode("utf-8")
    head = [
        "POST %s HTTP/1.1" % path,
        "Host: %s" % (u.netloc.rsplit("@", 1)[-1]),
        "User-Agent: msp-executor-python/" + VERSION,
        "Accept: */*",
        "Content-Type: application/json",
        "Authorization: Bearer " + key,
        "X-Brainstorm-Command-Id: " + ctx["command_id"],
        "Idempotency-Key: " + ctx["command_id"],
    ]
    if ctx["correlation_id"] is not None:
        head.append("X-Correlation-Id: " + ctx["correlation_id"])
    head += ["Content-Length: %d" % len(body), "Connection: close", "", ""]
    request = "\r\n".join(head).encode("utf-8") + body
    left = deadline - time.monotonic()
    if left <= 0:
        raise Transport("Operation timed out")
    try:
        sock = socket.create_connection((host, port), timeout=left)
    except socket.timeout:
        raise Transport("Connection timed out")
    except OSError as e:
        raise Transport(
            "Failed to connect to %s port %d: %s" % (host, port, e.strerror or e)
        )
    conn = None
    try:
        if u.scheme == "https":
            import ssl  # only here: it is slow to load

            tls = ssl.create_default_context(cafile=os.environ.get("MSP_CA_FILE"))
            sock.settimeout(max(deadline - time.monotonic(), 0.001))
            try:
                sock = tls.wrap_socket(sock, server_hostname=host)
            except OSError as e:  # ssl.SSLError included
                raise Transport("TLS: %s" % e)
        conn = Conn(sock, deadline)
        try:
            sock.settimeout(conn.left())
            sock.sendall(request)
        except OSError as e:
            raise Transport("Send failure: %s" % (e.strerror or e))
        status_line = conn.line(HEADER_CAP).decode("latin-1")
        parts = status_line.split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not (
            parts[1].isdigit() and len(parts[1]) == 3
        ):
            raise Transport("Unsupported HTTP response (not HTTP/1.x)")
        status = int(parts[1])
        conn.got_status = True
        headers, size = {}, 0
        while True:
            line = conn.line(HEADER_CAP)
            size += len(line)
            if size > HEADER_CAP:
                raise Transport("headers too large")
            if line == b"":
                break
            name, sep, value = line.decode("latin-1").partition(":")
            if not sep:
                raise Transport("malformed header line")
            headers.setdefault(name.strip().lower(), value.strip())
        return status, read_body(conn, headers)
    except Transport as e:
        e.row = 4 if conn is not None and conn.got_status else 3
        raise
    finally:
        try:
            sock.close()
        except OSError:
            pass


# ---- the exit table, rows 6 to 14 ---------------------------------------


def error_parts(value):
    """(code, message) from {"error":{"code","message"}}, each or None."""
    if isinstance(value, dict) and isinstance(value.get("error"), dict):
        e = value["error"]
        code = e.get("code") if isinstance(e.get("code"), str) else None
        msg = e.get("message") if isinstance(e.get("message"), str) else None
        return code, msg
    return None, None


def raw_text(body):
    return body.decode("utf-8", errors="replace")


def map_response(status, body):
    parsed = strict_json(body) if body else None
    if status == 200:
        if not body:
            return result(0, "{}")  # row 8: an empty body is {}
        if parsed is None:
            return result(0, raw_text(body))  # row 9
        value, text = parsed
        if isinstance(value, dict) and "exit_code" in value:
            code = value["exit_code"]
            shown = members(text)["exit_code"][1]
            if isinstance(code, bool) or not isinstance(code, (int, float)):
                return result(
                    124,
                    "",
                    PREFIX
                    + "malformed 200 response: exit_code field present but "
                    "not a finite number (got %s)" % shown,
                )
            if (
                isinstance(code, float)
                and not code.is_integer()
                or not -(2**31) <= code <= 2**31 - 1
            ):
                return result(
                    124,
                    "",
                    PREFIX
                    + "malformed 200 response: exit_code field present but "
                    "not an integer (got %s)" % shown,
                )
            out = value.get("stdout")
            err = value.get("stderr")
            return result(  # row 6
                int(code),
                out if isinstance(out, str) else "",
                err if isinstance(err, str) else "",
            )
        return result(0, compact(text))  # row 8
    code, msg = error_parts(parsed[0] if parsed else None)
    tail = msg if msg is not None else raw_text(body)
    tag = "%d%s" % (status, " " + code if code else "")
    if status == 400 and code == "IDEMPOTENCY_CORRELATION_MISMATCH":
        return result(124, "", PREFIX + "header consistency violation: " + tail)
    if status in (401, 403):
        return result(126, "", PREFIX + "auth error (%s): %s" % (tag, tail))
    if status == 404:
        return result(127, "", PREFIX + "tool unknown (%s): %s" % (tag, tail))
    if 500 <= status <= 599:
        return result(
            125, "", PREFIX + "server error (%d): %s" % (status, raw_text(body))
        )
    return result(1, "", PREFIX + "unexpected status (%s): %s" % (tag, tail))


def execute(url, key, timeout_ms, ctx):
    if ctx["deadline_ms"] <= 0:  # row 1
        return result(
            124, "", PREFIX + "deadline expired (%dms)" % ctx["deadline_ms"]
        )
    why = invalid_request(ctx)
    if why:  # row 2
        return result(124, "", PREFIX + "invalid request: " + why)
    deadline = time.monotonic() + min(ctx["deadline_ms"], timeout_ms) / 1000.0
    try:
        status, body = exchange(url, key, ctx, deadline)
    except TooLarge:  # row 5
        return result(
            124, "", PREFIX + "response too large (over %d bytes)" % RESPONSE_CAP
        )
    except Transport as e:  # rows 3, 4
        kind = "response read failed: " if e.row == 4 else "transport error: "
        return result(124, "", PREFIX + kind + str(e))
    return map_response(status, body)


# ---- the command line ----------------------------------------------------


def usage(msg):
    sys.stderr.write("msp_exec.py: %s\n" % msg)
    sys.exit(64)


def parse_args(argv):
    opts = {"--json": False}
    valued = {
        "--base-url",
        "--api-key-file",
        "--auth-mode",
        "--tenant-id",
        "--timeout-ms",
        "--context",
        "--ca-file",
    }
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--json":
            opts["--json"] = True
        elif a in valued and i + 1 < len(argv):
            opts[a] = argv[i + 1]
            i += 1
        else:
            usage("unknown or incomplete option %s" % a)
        i += 1
    return opts


def read_context(path):
    with open(path, "rb") if path != "-" else sys.stdin.buffer as f:
        text = f.read(1024 * 1024 + 1).decode("utf-8")
    m = members(text)

    def string(name, required):
        if name not in m or (m[name][0] is None and not required):
            if required:
                usage("context: %s is required" % name)
            return None
        v = m[name][0]
        if not isinstance(v, str):
            usage("context: %s must be a string" % name)
        if "\0" in v:
            usage("context: %s holds a NUL byte" % name)
        return v

    ctx = {
        "command_id": string("command_id", True),
        "tool": string("tool", True),
        "correlation_id": string("correlation_id", False),
        "deadline_ms": 30000,
        "params_text": "{}",
    }
    if "deadline_ms" in m:
        d = m["deadline_ms"][0]
        if isinstance(d, bool) or not isinstance(d, (int, float)) or d != int(d):
            usage("context: deadline_ms must be an integer")
        ctx["deadline_ms"] = int(d)
    if "params" in m and m["params"][0] is not None:
        ctx["params_text"] = compact(m["params"][1])
    return ctx


def main(argv):
    o = parse_args(argv)
    url = o.get("--base-url") or os.environ.get("BSM_MSP_BASE_URL")
    if not url or urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        usage("--base-url must be an http:// or https:// URL")
    if o.get("--api-key-file"):
        with open(o["--api-key-file"], "rb") as f:
            key = f.read(64 * 1024).decode("utf-8", errors="replace")
        key = key[:-1] if key.endswith("\n") else key
        key = key[:-1] if key.endswith("\r") else key
    else:
        key = os.environ.get("BSM_MSP_API_KEY", "")
    if not key or has_control(key):
        usage("the API key is empty or holds a control byte")
    mode = o.get("--auth-mode") or os.environ.get("BSM_MSP_AUTH_MODE") or "service_key"
    if mode not in ("service_key", "jwt"):
        usage("--auth-mode must be service_key or jwt")
    try:
        timeout_ms = int(o.get("--timeout-ms", DEFAULT_TIMEOUT_MS))
    except ValueError:
        usage("--timeout-ms wants a number")
    if not 1 <= timeout_ms <= MAX_TIMEOUT_MS:
        usage("--timeout-ms must be 1..%d" % MAX_TIMEOUT_MS)
    if o.get("--ca-file"):
        os.environ["MSP_CA_FILE"] = o["--ca-file"]
    if not o.get("--context"):
        usage("--context FILE is required")
    try:
        ctx = read_context(o["--context"])
    except (OSError, ValueError) as e:
        usage("context: %s" % e)
    res = execute(url, key, timeout_ms, ctx)
    # the protocol's optional member: this run's time, start-up excluded
    res["elapsed_ms"] = int((time.monotonic() - STARTED) * 1000)
    if o["--json"]:
        sys.stdout.write(json.dumps(res, separators=(",", ":")) + "\n")
    else:
        del res["elapsed_ms"]
        sys.stdout.write(res["stdout"])
        sys.stderr.write(res["stderr"])
    sys.stdout.flush()
    return res["exit_code"] & 0xFF


if __name__ == "__main__":
    # start-up (the interpreter, the imports) is over: the run starts here
    STARTED = time.monotonic()
    sys.exit(main(sys.argv[1:]))
