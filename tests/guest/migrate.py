#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# One live migration between two running QEMUs, for the nvqemu guest tests
# (tests/guest/run.sh, scenarios migrate and migrate-nbd).
#
#   migrate.py SRC_QMP DST_QMP URI CAPS_JSON PARAMS_JSON [TIMEOUT]
#
# The destination was started with -incoming defer: it gets the
# capabilities CAPS_JSON (a migrate-set-capabilities argument) and
# migrate-incoming URI; the source gets the same capabilities, the
# parameters PARAMS_JSON and migrate URI.  query-migrate is polled on one
# connection until the migration completes, then the destination must be
# running.  Prints "STATS: <total ms> <downtime ms> <RAM bytes sent>" and
# exits 0, or prints the error and exits 1 (failed, cancelled, TIMEOUT
# seconds passed, default 300).
import json
import sys
import time

from qmp import QMP, QMPError

POLL_S = 0.2
RUNNING_TIMEOUT_S = 60.0


def migrate(src_path, dst_path, uri, caps, params, timeout):
    dst = QMP(dst_path)
    dst.command("migrate-set-capabilities", caps)
    dst.command("migrate-incoming", {"uri": uri})
    src = QMP(src_path)
    src.command("migrate-set-capabilities", caps)
    src.command("migrate-set-parameters", params)
    src.command("migrate", {"uri": uri})
    deadline = time.monotonic() + timeout
    while True:
        r = src.command("query-migrate")
        status = r.get("status")
        if status == "completed":
            break
        if status in ("failed", "cancelled"):
            raise QMPError("migration %s: %s" % (status, r.get("error-desc", "")))
        if time.monotonic() > deadline:
            raise QMPError("migration still %s after %d s" % (status, timeout))
        time.sleep(POLL_S)
    deadline = time.monotonic() + RUNNING_TIMEOUT_S
    while dst.command("query-status")["status"] != "running":
        if time.monotonic() > deadline:
            raise QMPError("the destination does not run")
        time.sleep(POLL_S)
    print("STATS: %d %d %d" % (r.get("total-time", -1), r.get("downtime", -1),
                               r.get("ram", {}).get("transferred", -1)))
    src.close()
    dst.close()


def main(argv):
    if len(argv) < 6:
        sys.stderr.write(__doc__ if __doc__ else "usage: see migrate.py\n")
        return 2
    timeout = float(argv[6]) if len(argv) > 6 else 300.0
    try:
        migrate(argv[1], argv[2], argv[3], json.loads(argv[4]),
                json.loads(argv[5]), timeout)
    except (OSError, QMPError, ValueError, KeyError) as e:
        print("migrate.py: error: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
