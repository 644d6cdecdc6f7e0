#!/usr/bin/env python3
"""Ctrl-C interrupts `gomap scan` in an interactive lldb, and the next scan works.

lldb-19 runs on a pseudo-terminal (Ctrl-C reaches a running command only through lldb's
terminal handling); a corpus core is loaded, `gomap scan` typed, and Ctrl-C sent every 10 ms
shortly after. Whether the first Ctrl-C lands inside the scan depends on timing, so a few delays
are tried: it passes when one run prints the plugin's "interrupted" error, and in every run the
scan typed afterwards prints a whole report.

usage: interrupt.py LLDB PLUGIN CORE EXECUTABLE
"""
import os
import pty
import select
import sys
import time


def drain(fd, seconds):
    out = b""
    end = time.time() + seconds
    while time.time() < end:
        ready, _, _ = select.select([fd], [], [], 0.01)
        if ready:
            try:
                out += os.read(fd, 65536)
            except OSError:
                break
    return out


def drain_until(fd, marker, seconds):
    """Reads until marker appears or seconds pass (a loaded machine can be slow)."""
    out = b""
    end = time.time() + seconds
    while time.time() < end and marker not in out:
        out += drain(fd, 0.1)
    return out


def attempt(lldb, plugin, core, exe, delay):
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(lldb, [lldb, "-x", "-Q"])
    try:
        # Each step waits for what says it is done, not a fixed time: on a loaded machine (ctest -j)
        # loading the core or the plugin can take seconds, and a scan typed before the plugin is
        # loaded is no gomap command at all.
        os.write(fd, f"target create --core {core} {exe}\n".encode())
        drain_until(fd, b"was loaded", 60.0)
        os.write(fd, f"plugin load {plugin}\n".encode())
        os.write(fd, b"help gomap\n")
        drain_until(fd, b"scan", 60.0)
        drain(fd, 0.2)
        os.write(fd, b"gomap scan\n")
        out = drain(fd, delay)
        for _ in range(50):
            os.write(fd, b"\x03")
            out += drain(fd, 0.01)
        out += drain(fd, 2.0)
        interrupted = b"error: gomap: interrupted" in out
        os.write(fd, b"gomap scan\n")
        after = drain_until(fd, b"findings     ", 60.0)
        os.write(fd, b"quit\n")
        drain(fd, 1.0)
        return interrupted, b"findings     " in after
    finally:
        try:
            os.kill(pid, 9)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)


def main(lldb, plugin, core, exe):
    seen = False
    for delay in (0.02, 0.05, 0.1, 0.2):
        interrupted, recovered = attempt(lldb, plugin, core, exe, delay)
        print(f"delay {delay}s: interrupted={interrupted} next scan reported={recovered}")
        if not recovered:
            print("FAIL the scan after Ctrl-C printed no report")
            return 1
        seen = seen or interrupted
    if not seen:
        print("FAIL no Ctrl-C interrupted gomap scan")
        return 1
    print("interrupt test: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
