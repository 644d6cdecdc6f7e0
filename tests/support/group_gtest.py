#!/usr/bin/env python3
"""Registers a gtest binary's tests with ctest in groups, one process per group.

The corpus tests are parameterized over corpus cases (and builds); every test of one case opens
and analyzes the same core. Run as one ctest test each, the case is analyzed once per test: under
AddressSanitizer that is seconds a test, over a thousand times. Grouped by parameter (the part of
the name after the last '/'), a case's tests share one analysis (testing::analyzedCase), and the
tests without a parameter form one more group. Every listed test lands in exactly one group, so
nothing is dropped.

usage: group_gtest.py BINARY PREFIX LABEL OUTPUT
"""
import re
import subprocess
import sys


def main():
    binary, prefix, label, output = sys.argv[1:5]
    listing = subprocess.run([binary, "--gtest_list_tests"], check=True, capture_output=True,
                             text=True).stdout
    suite = None
    groups = {}
    plain = 0
    for line in listing.splitlines():
        if not line.strip() or line.startswith("Running main"):
            continue
        if not line.startswith(" "):
            suite = line.strip()
            continue
        name = suite + line.split("#")[0].strip()
        if "/" in name:
            parameter = name.rsplit("/", 1)[1]
            if not re.fullmatch(r"[A-Za-z0-9_]+", parameter):
                sys.exit(f"group_gtest.py: parameter name {parameter!r} of {name} needs escaping")
            groups[parameter] = groups.get(parameter, 0) + 1
        else:
            plain += 1
    lines = []

    def register(name, test_filter):
        lines.append(f"add_test([=[{name}]=] [=[{binary}]=] [=[--gtest_filter={test_filter}]=])")
        lines.append(f"set_tests_properties([=[{name}]=] PROPERTIES LABELS [=[{label}]=])")

    for parameter in sorted(groups):
        register(f"{prefix}/{parameter}", f"*/{parameter}")
    if plain:
        register(f"{prefix}/unparameterized", "-*/*")
    with open(output, "w") as out:
        out.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
