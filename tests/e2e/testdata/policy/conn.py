#!/usr/bin/env python3
"""Long-lived TCP connection helpers for policy_e2e.sh (run inside a pod's
network namespace with `cilium-lab exec POD -- python3 conn.py ...`).

  serve PORT            single-process TCP echo server on [::]:PORT (IPv4 and IPv6)
  hold ADDR PORT LOG    one connection; every 50 ms send a line and wait for its
                        echo; LOG gets "ok N" after each round trip, "ERROR ..."
                        and exit 1 when the connection fails or an echo takes > 2 s
  connect ADDR PORT S   one new connection with an echo within S seconds: exit 0,
                        else exit 1
"""
import os
import selectors
import socket
import sys
import time


def serve(port):
    sel = selectors.DefaultSelector()
    ls = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    ls.bind(("::", port))
    ls.listen(64)
    ls.setblocking(False)
    sel.register(ls, selectors.EVENT_READ)
    print("listening", flush=True)
    while True:
        for key, _ in sel.select():
            s = key.fileobj
            if s is ls:
                c, _ = ls.accept()
                c.setblocking(False)
                sel.register(c, selectors.EVENT_READ)
                continue
            try:
                data = s.recv(4096)
            except OSError:
                data = b""
            if not data:
                sel.unregister(s)
                s.close()
                continue
            s.setblocking(True)
            s.sendall(data)
            s.setblocking(False)


def write_log(path, line):
    with open(path, "a") as f:
        f.write(line + "\n")


def hold(addr, port, log):
    try:
        s = socket.create_connection((addr, port), timeout=2)
    except OSError as e:
        write_log(log, "ERROR connect: %s" % e)
        return 1
    s.settimeout(2)
    n = 0
    while True:
        n += 1
        msg = ("ping %d\n" % n).encode()
        try:
            s.sendall(msg)
            got = b""
            while len(got) < len(msg):
                chunk = s.recv(len(msg) - len(got))
                if not chunk:
                    raise OSError("connection closed by the server")
                got += chunk
            if got != msg:
                raise OSError("echo mismatch")
        except OSError as e:
            write_log(log, "ERROR round trip %d: %s" % (n, e))
            return 1
        write_log(log, "ok %d" % n)
        time.sleep(0.05)


def connect(addr, port, secs):
    try:
        s = socket.create_connection((addr, port), timeout=secs)
        s.settimeout(secs)
        s.sendall(b"hello\n")
        return 0 if s.recv(16) == b"hello\n" else 1
    except OSError:
        return 1


def main(argv):
    if len(argv) >= 2 and argv[0] == "serve":
        return serve(int(argv[1]))
    if len(argv) == 4 and argv[0] == "hold":
        return hold(argv[1], int(argv[2]), argv[3])
    if len(argv) == 4 and argv[0] == "connect":
        return connect(argv[1], int(argv[2]), float(argv[3]))
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
