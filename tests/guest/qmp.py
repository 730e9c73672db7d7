#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Minimal QMP client (python3 stdlib only) for the nvqemu guest tests.
#
#   qmp.py SOCKET COMMAND [ARGS_JSON] [COMMAND [ARGS_JSON]]...
#
# Connects to QEMU's QMP unix socket (waiting up to 30 s for it to appear),
# negotiates capabilities and runs the commands in order.  Each reply's
# "return" is printed as one JSON line; events are printed as "# event ...".
# Exits 1 at the first command that returns an error.
import json
import socket
import sys
import time


class QMPError(Exception):
    pass


class QMP:
    def __init__(self, path, timeout=30.0):
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        self.sock.settimeout(timeout)
        self.file = self.sock.makefile("rb")
        greeting = self._read()
        if "QMP" not in greeting:
            raise QMPError("no QMP greeting: %r" % greeting)
        self.command("qmp_capabilities")

    def _read(self):
        line = self.file.readline()
        if not line:
            raise QMPError("QMP connection closed")
        return json.loads(line)

    def command(self, name, args=None):
        msg = {"execute": name}
        if args:
            msg["arguments"] = args
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            reply = self._read()
            if "event" in reply:
                print("# event", json.dumps(reply))
                continue
            if "error" in reply:
                raise QMPError("%s: %s" % (name, reply["error"].get("desc", reply)))
            return reply.get("return")

    def close(self):
        self.file.close()
        self.sock.close()


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__ if __doc__ else "usage: qmp.py SOCKET COMMAND [ARGS_JSON]...\n")
        return 2
    cmds = []
    rest = argv[2:]
    while rest:
        name = rest.pop(0)
        args = None
        if rest and rest[0].lstrip().startswith("{"):
            args = json.loads(rest.pop(0))
        cmds.append((name, args))
    try:
        qmp = QMP(argv[1])
        for name, args in cmds:
            print("->", name, json.dumps(args) if args else "")
            print(json.dumps(qmp.command(name, args)))
            sys.stdout.flush()
        qmp.close()
    except (OSError, QMPError, ValueError) as e:
        print("qmp.py: error: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
