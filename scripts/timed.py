#!/usr/bin/env python3
"""Runs a command and writes "wall user sys maxrss_kb" (GNU time's "%e %U %S %M") to a file.

usage: timed.py OUTPUT -- command...
The benchmark suite's stand-in for /usr/bin/time, so it needs nothing installed on the machine.
Exits with the command's status.
"""
import os
import sys
import time


def main():
    if len(sys.argv) < 4 or sys.argv[2] != "--":
        raise SystemExit("usage: timed.py OUTPUT -- command...")
    output, command = sys.argv[1], sys.argv[3:]
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            os.execvp(command[0], command)
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    wall = time.monotonic() - started
    with open(output, "w") as out:
        out.write(f"{wall:.2f} {usage.ru_utime:.2f} {usage.ru_stime:.2f} {usage.ru_maxrss}\n")
    sys.exit(os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode") else status >> 8)


if __name__ == "__main__":
    main()
