#!/usr/bin/env python3
"""Checks the CLI's JSON report of one corpus case against the case's ground truth.

Usage: json_truth_check.py GOMAPCORE BUILD_DIR SCENARIO

BUILD_DIR is an unpacked corpus build (tests/corpus/<build> in the build tree) holding
`mapcrash`, `SCENARIO.core` and `SCENARIO.stderr`. The script runs

    GOMAPCORE analyze BUILD_DIR/SCENARIO.core --exe BUILD_DIR/mapcrash --format json --fail-on never

and compares the report (docs/report-v1.md) with the GOMAPCORE-TRUTH records of the stderr
(samples/README.md, "Ground-truth format"). It makes the comparisons tests/integration/corpus_test.cpp
makes through the engine API, with the same exclusions: counts are not compared on maps another
goroutine was writing when the process froze (raced: the crash record names them) nor on damaged maps.

Exit status: 0 when the report matches, 1 when it does not (every mismatch is printed), 2 when the
case cannot be checked at all (missing files, unusable truth, gomapcore failing or writing no JSON).
"""

import json
import os
import subprocess
import sys

TRUTH_PREFIX = "GOMAPCORE-TRUTH "
SCHEMA = "gomapcore/report-v1"
TIMEOUT_SECONDS = 300


class Unusable(Exception):
    """The case cannot be checked (as opposed to: the report does not match)."""


def parse_address(text, what):
    """Truth and report addresses are lowercase hex strings with 0x."""
    if not isinstance(text, str) or not text.startswith("0x"):
        raise Unusable(f"{what}: {text!r} is not a 0x-prefixed hex address")
    try:
        return int(text, 16)
    except ValueError as error:
        raise Unusable(f"{what}: {text!r} is not a hex address") from error


def load_truth(path):
    records = []
    with open(path, encoding="utf-8", errors="replace") as stream:
        for number, line in enumerate(stream, 1):
            if not line.startswith(TRUTH_PREFIX):
                continue
            try:
                records.append(json.loads(line[len(TRUTH_PREFIX) :]))
            except json.JSONDecodeError as error:
                raise Unusable(f"{path}:{number}: truth line is not JSON: {error}") from error
    if not records or records[0].get("record") != "case":
        raise Unusable(f"{path}: no truth, or its first record is not the case record")
    return records


def run_analyzer(gomapcore, core, executable):
    command = [gomapcore, "analyze", core, "--exe", executable, "--format", "json", "--fail-on", "never"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise Unusable(f"cannot run {' '.join(command)}: {error}") from error
    if done.returncode != 0:
        # With --fail-on never, only a refused input (exit 2) or a crash is non-zero.
        raise Unusable(f"{' '.join(command)} exited {done.returncode}:\n{done.stderr[-4000:]}")
    try:
        return json.loads(done.stdout)
    except json.JSONDecodeError as error:
        raise Unusable(f"{' '.join(command)} did not write JSON: {error}\n{done.stdout[:2000]}") from error


class Checker:
    def __init__(self, build, scenario, truth, report):
        self.build = build
        self.scenario = scenario
        self.truth = truth
        self.report = report
        self.problems = []
        self.checked_maps = 0

    def expect(self, condition, message):
        if not condition:
            self.problems.append(message)
        return condition

    def records(self, kind):
        return [record for record in self.truth if record.get("record") == kind]

    def check(self):
        report = self.report
        if not self.expect(report.get("schema") == SCHEMA, f"schema is {report.get('schema')!r}, not {SCHEMA!r}"):
            return
        self.check_target()
        self.check_summary()
        damaged = {parse_address(d["map"], "damage map") for d in self.records("damage")}
        raced = {parse_address(c["map"], "crash map") for c in self.records("crash") if "map" in c}
        self.check_global_maps(damaged, raced)
        self.check_damage()
        self.check_no_false_alarms(damaged, raced)

    def check_target(self):
        case = self.truth[0]
        self.expect(case.get("scenario") == self.scenario,
                    f"truth case record is for scenario {case.get('scenario')!r}")
        target = self.report.get("target") or {}
        for field, truth_field in (("go_version", "go_version"), ("map_layout", "layout"), ("pid", "pid")):
            self.expect(target.get(field) == case.get(truth_field),
                        f"target.{field} = {target.get(field)!r}, truth {truth_field} = {case.get(truth_field)!r}")
        # The arm64 corpus unpacks as builds named arm64-go1.N (tests/CMakeLists.txt).
        arch = "arm64" if self.build.startswith("arm64-") else "amd64"
        self.expect(target.get("arch") == arch, f"target.arch = {target.get('arch')!r}, expected {arch!r}")
        self.expect((self.report.get("input") or {}).get("core_truncated") is False,
                    "input.core_truncated is not false")

    def check_summary(self):
        findings = self.report.get("findings", [])
        summary = self.report.get("summary") or {}
        errors = sum(1 for f in findings if f.get("severity") == "error")
        self.expect((summary.get("findings") or {}).get("error") == errors,
                    f"summary.findings.error = {(summary.get('findings') or {}).get('error')!r} "
                    f"but findings[] holds {errors} errors")
        self.expect(summary.get("maps") == len(self.report.get("maps", [])),
                    f"summary.maps = {summary.get('maps')!r} but maps[] has {len(self.report.get('maps', []))}")

    def map_by_root(self, root):
        for entry in self.report.get("maps", []):
            if root in entry.get("roots", []):
                return entry
        return None

    def check_global_maps(self, damaged, raced):
        nil_roots = {nil.get("root") for nil in self.report.get("nil_maps", [])}
        for truth in self.records("map"):
            if truth.get("where") != "global":
                continue  # heap and stack roots are map discovery's business (corpus_test.cpp)
            root = truth["root"]
            self.checked_maps += 1
            if truth.get("nil", False):
                self.expect(root in nil_roots, f"{root}: a nil map, but not in nil_maps")
                continue
            address = parse_address(truth["addr"], f"{root} addr")
            entry = self.map_by_root(root)
            if entry is None:
                at = [e for e in self.report.get("maps", []) if parse_address(e["address"], "map") == address]
                self.expect(False, f"{root}: no map in maps[] has this root"
                            + (f" (the map at {truth['addr']} has roots {at[0].get('roots')})" if at else
                               f" and none is at {truth['addr']}"))
                continue
            self.expect(parse_address(entry["address"], f"{root} address") == address,
                        f"{root}: address {entry['address']}, truth {truth['addr']}")
            self.expect(entry.get("type") == truth.get("type"),
                        f"{root}: type {entry.get('type')!r}, truth {truth.get('type')!r}")
            is_damaged = address in damaged
            is_raced = address in raced
            # A map other goroutines were writing when the process froze may be caught between two
            # updates, and a damaged map's header count may be the damage: counts are compared on
            # the others only.
            if not is_raced and not is_damaged:
                self.expect(entry.get("count") == truth.get("count"),
                            f"{root}: count {entry.get('count')!r}, truth {truth.get('count')!r}")
                self.expect(entry.get("live_entries") == truth.get("count"),
                            f"{root}: live_entries {entry.get('live_entries')!r}, truth count {truth.get('count')!r}")
                self.expect(entry.get("complete") is True, f"{root}: walk not complete")
                if entry.get("layout") == "classic":
                    self.expect(entry.get("growing") == truth.get("growing", False),
                                f"{root}: growing {entry.get('growing')!r}, truth {truth.get('growing')!r}")

    def check_damage(self):
        findings = self.report.get("findings", [])
        if self.scenario == "healthy":
            errors = [f for f in findings if f.get("severity") == "error"]
            self.expect(not errors, "healthy case has error findings: "
                        + "; ".join(f"{f.get('rule')} on {f.get('map')}: {f.get('message')}" for f in errors))
        for damage in self.records("damage"):
            rule = damage["rule"]
            map_address = parse_address(damage["map"], "damage map")
            offending = damage.get("address")
            want = None if offending in (None, "") else parse_address(offending, "damage address")
            found = any(f.get("rule") == rule and parse_address(f.get("map"), "finding map") == map_address
                        and (want is None or parse_address(f.get("address"), "finding address") == want)
                        for f in findings)
            self.expect(found, f"expected {rule} on map {damage['map']}"
                        + (f" at {offending}" if want is not None else "")
                        + f" ({damage.get('field', '')}); the map's findings: "
                        + ("; ".join(f"{f.get('rule')} at {f.get('address')}" for f in findings
                                     if parse_address(f.get("map"), "finding map") == map_address) or "none"))

    def check_no_false_alarms(self, damaged, raced):
        allowed = set(damaged)
        if self.scenario.startswith("concurrent"):
            allowed |= raced
        for finding in self.report.get("findings", []):
            if finding.get("severity") != "error":
                continue
            self.expect(parse_address(finding.get("map"), "finding map") in allowed,
                        f"false alarm: {finding.get('rule')} on map {finding.get('map')}: {finding.get('message')}")


def main(argv):
    if len(argv) != 4:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    gomapcore, build_dir, scenario = argv[1:]
    core = os.path.join(build_dir, scenario + ".core")
    executable = os.path.join(build_dir, "mapcrash")
    stderr_path = os.path.join(build_dir, scenario + ".stderr")
    label = f"{os.path.basename(os.path.normpath(build_dir))}/{scenario}"
    try:
        for path in (gomapcore, core, executable, stderr_path):
            if not os.path.isfile(path):
                raise Unusable(f"{path} does not exist (is the corpus unpacked? build the `corpus` target)")
        truth = load_truth(stderr_path)
        report = run_analyzer(gomapcore, core, executable)
        checker = Checker(os.path.basename(os.path.normpath(build_dir)), scenario, truth, report)
        checker.check()
    except Unusable as error:
        print(f"{label}: cannot check: {error}")
        return 2
    except (KeyError, TypeError, AttributeError) as error:
        print(f"{label}: report or truth lacks an expected field: {error!r}")
        return 1
    if checker.problems:
        print(f"{label}: the JSON report does not match the ground truth:")
        for problem in checker.problems:
            print(f"  - {problem}")
        return 1
    damage = len(checker.records("damage"))
    print(f"{label}: ok ({checker.checked_maps} global maps, {damage} damage records, "
          f"{len(report.get('findings', []))} findings)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
