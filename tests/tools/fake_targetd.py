#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A stand-in for targetd's process interface only (no iSCSI), used to check the
integration harness itself: argv, NOTIFY_SOCKET READY=1, the "ready, listening
on" line, exit 1 before READY on a missing LU path, exit 0 on SIGTERM.
Accepts connections and closes them. Never used to test the product.
"""

import argparse
import os
import selectors
import signal
import socket
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-f", action="store_true")
    ap.add_argument("--listen", action="append", default=[])
    ap.add_argument("--export", action="append", default=[])
    ap.add_argument("--state-dir")
    ap.add_argument("-c")
    ap.add_argument("--check-config", action="store_true")
    a = ap.parse_args()
    if a.check_config:
        print("OK")
        return 0
    for e in a.export:
        for path in e.split("=", 1)[1].split(","):
            if not path.startswith("mem:") and not os.path.exists(path):
                print(f"targetd: error: daemon: {path}: No such file or directory",
                      file=sys.stderr)
                return 1
    sel = selectors.DefaultSelector()
    addrs = []
    for listen in a.listen or ["0.0.0.0:3260"]:
        host, _, port = listen.rpartition(":")
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((host, int(port)))
        s.listen()
        sel.register(s, selectors.EVENT_READ)
        addrs.append(f"{host}:{s.getsockname()[1]}")
    rfd, wfd = os.pipe()
    os.set_blocking(wfd, False)
    signal.set_wakeup_fd(wfd)
    signal.signal(signal.SIGTERM, lambda *_: None)
    sel.register(rfd, selectors.EVENT_READ)
    ns = os.environ.get("NOTIFY_SOCKET")
    if ns:
        n = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        n.sendto(b"READY=1\nSTATUS=fake", ns)
        n.close()
    print(f"targetd: ready, listening on {', '.join(addrs)}", file=sys.stderr, flush=True)
    while True:
        for key, _ in sel.select():
            if key.fileobj == rfd:
                return 0
            c, _ = key.fileobj.accept()
            c.close()


if __name__ == "__main__":
    sys.exit(main())
