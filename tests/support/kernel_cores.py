"""What the tests that make cores at run time need to know about the kernel.

The kernel writes a crashing process's core where kernel.core_pattern says. These tests need it
written into the crashing process's working directory (the pattern "core", or "core.PID");
a pattern that pipes cores to a helper (systemd-coredump, apport) or names a directory cannot
serve them, and the test is then skipped with the reason (exit code 77, CTest's SKIP_RETURN_CODE).
"""

SKIP = 77


def why_cores_are_not_written_here():
    """None when cores land in the working directory; else the sentence saying why not."""
    with open("/proc/sys/kernel/core_pattern") as f:
        pattern = f.read().strip()
    if pattern.startswith("|") or "/" in pattern:
        return (f"kernel.core_pattern is {pattern!r}; cores must be written to the working directory "
                "(sysctl -w kernel.core_pattern=core)")
    return None
