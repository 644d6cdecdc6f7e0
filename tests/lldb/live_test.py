"""Runs inside lldb-19 (command script import): the plugin on a live Go process.

The corpus program mapcrash runs its `healthy` scenario under lldb (SIGURG passed silently), and
is stopped three times:

  A  healthy.go:115, in the loop that deletes from main.churned: the maps built so far are the
     ones the program printed (its GOMAPCORE-TRUTH lines on stderr), at their addresses with their
     counts; main.churned holds 1000 entries. `gomap show main.users` decodes its 12 entries,
     `gomap goroutines` lists goroutine 1 in main.scenarioHealthy, `gomap check` validates a map.
  B  healthy.go:121, after the loop: main.churned, at the same address, holds 50 (what was read
     at A is not reused), and every map printed by then is found.
  C  the crash's SIGABRT: every map printed, the local maps of goroutine 7 included; the report
     says there is no NT_SIGINFO and takes the signal from the stop; goroutines 6 and 7 run the
     functions the program printed.

Then the errors: bad arguments, an unknown map, a killed process, a target without a process and
a program that is not Go, each one failed status and one sentence.

Environment: GOMAP_PLUGIN, GOMAP_EXE (a corpus mapcrash, copied here and made executable),
GOMAP_WORK (a scratch folder), GOMAP_NON_GO (a program that is not Go, e.g. /bin/true).
Prints "live test: OK" or "FAIL ..." lines.
"""
import json
import os
import re
import shutil
import stat

import lldb

TRUTH = "GOMAPCORE-TRUTH "
# Lines of samples/mapcrash/healthy.go as built into the committed corpus executables.
LINE_IN_DELETE_LOOP = 115
LINE_AFTER_DELETE_LOOP = 121


class Check:
    def __init__(self):
        self.problems = []
        self.passed = 0

    def that(self, condition, message):
        if condition:
            self.passed += 1
        else:
            self.problems.append(message)
        return condition


def handle(debugger, command):
    result = lldb.SBCommandReturnObject()
    debugger.GetCommandInterpreter().HandleCommand(command, result)
    return result


def truth(path):
    records = []
    with open(path, errors="replace") as f:
        for line in f:
            if line.startswith(TRUTH):
                records.append(json.loads(line[len(TRUTH):]))
    return records


def gomap_json(debugger, check, command):
    result = handle(debugger, command)
    if not check.that(result.Succeeded(), f"'{command}' failed: {result.GetError().strip()}"):
        return None
    try:
        return json.loads(result.GetOutput())
    except ValueError as e:
        check.that(False, f"'{command}' printed no JSON ({e}): {result.GetOutput()[:300]}")
        return None


def gomap_jsonl(debugger, check, command):
    """`gomap maps --json`: one map object a line, as `gomapcore maps --format jsonl`."""
    result = handle(debugger, command)
    if not check.that(result.Succeeded(), f"'{command}' failed: {result.GetError().strip()}"):
        return None
    try:
        return {"maps": [json.loads(line) for line in result.GetOutput().splitlines() if line.strip()],
                "nil_maps": None}
    except ValueError as e:
        check.that(False, f"'{command}' printed a line that is not JSON ({e})")
        return None


def check_truth_maps(check, stop, report, records):
    """Every non-nil map the program printed is in the report at its address with its count."""
    by_address = {m["address"]: m for m in report["maps"]}
    nil_roots = None if report["nil_maps"] is None else {n["root"] for n in report["nil_maps"]}
    printed = [r for r in records if r["record"] == "map"]
    for r in printed:
        if r["nil"]:
            check.that(nil_roots is None or r["root"] in nil_roots, f"{stop}: nil map {r['root']} not among nil_maps")
            continue
        found = by_address.get(r["addr"])
        if not check.that(found is not None, f"{stop}: map {r['root']} at {r['addr']} not found"):
            continue
        check.that(found["count"] == r["count"] and found["live_entries"] == r["count"],
                   f"{stop}: map {r['root']} at {r['addr']}: count {found['count']}, live "
                   f"{found['live_entries']}, the program printed {r['count']}")
        check.that(found["status"] == "ok", f"{stop}: map {r['root']} status {found['status']}")
        if r["where"] != "stack":  # a stack map may be found by its stack object, not its name
            check.that(r["root"] in found["roots"], f"{stop}: map {r['addr']} roots {found['roots']} lack {r['root']}")
    return len(printed)


def stop_text(process):
    thread = process.GetSelectedThread()
    stream = lldb.SBStream()
    thread.GetStatus(stream)
    return f"reason {thread.GetStopReason()} data {thread.GetStopReasonDataAtIndex(0)}: " + stream.GetData()[:200]


def continue_until(debugger, check, process, stopped, what):
    """Continues until stopped(thread) holds; other stops are printed and continued past, at most
    a few times. Seen about once in twelve runs under load: after 'continue' from a breakpoint the
    same breakpoint is hit again, sometimes on another thread (most likely Go's preemption signal,
    SIGURG, landing while lldb steps over the breakpoint, and the runtime resuming the goroutine at
    the breakpoint's address)."""
    for attempt in range(6):
        result = handle(debugger, "continue")
        if not result.Succeeded() or not process.IsValid():
            break
        if stopped(process.GetSelectedThread()):
            return True
        print(f"note: stopped before {what}, continuing: {stop_text(process)}")
    return check.that(False, f"never stopped at {what}: {stop_text(process)}")


def expect_failure(debugger, check, command, sentence):
    result = handle(debugger, command)
    error = result.GetError()
    check.that(not result.Succeeded() and result.GetStatus() == lldb.eReturnStatusFailed,
               f"'{command}' did not fail (status {result.GetStatus()})")
    check.that(sentence in error, f"'{command}': error '{error.strip()}' lacks '{sentence}'")
    check.that(error.count("\n") <= 1, f"'{command}': the error is not one line: {error!r}")


def run(debugger, check):
    work = os.environ["GOMAP_WORK"]
    os.makedirs(work, exist_ok=True)
    program = os.path.join(work, "mapcrash")
    shutil.copyfile(os.environ["GOMAP_EXE"], program)
    os.chmod(program, stat.S_IRWXU)
    stderr = os.path.join(work, "stderr")
    if os.path.exists(stderr):  # lldb does not truncate it
        os.remove(stderr)

    # No process yet.
    handle(debugger, "target create " + program)
    expect_failure(debugger, check, "gomap scan", "the target has no process")

    for command in ("process handle SIGURG -p true -s false -n false",
                    f"breakpoint set -f healthy.go -l {LINE_IN_DELETE_LOOP} --one-shot true",
                    f"breakpoint set -f healthy.go -l {LINE_AFTER_DELETE_LOOP}"):
        result = handle(debugger, command)
        check.that(result.Succeeded(), f"'{command}' failed: {result.GetError()}")
    result = handle(debugger, f"process launch -e {stderr} -- healthy")
    if not check.that(result.Succeeded(), f"process launch failed: {result.GetError()}"):
        return
    process = debugger.GetSelectedTarget().GetProcess()

    # --- stop A: in the loop that deletes from main.churned ---
    thread = process.GetSelectedThread()
    check.that(thread.GetStopReason() == lldb.eStopReasonBreakpoint, "A: not stopped at the breakpoint")
    report = gomap_jsonl(debugger, check, "gomap maps --json")
    if report:
        n = check_truth_maps(check, "A", report, truth(stderr))
        check.that(n >= 15, f"A: only {n} maps printed before the breakpoint")
        churned = [m for m in report["maps"] if "main.churned" in m["roots"]]
        if check.that(len(churned) == 1, "A: main.churned not found"):
            churned_a = churned[0]
            check.that(churned_a["count"] == 1000, f"A: main.churned count {churned_a['count']}, not 1000")
    report = gomap_json(debugger, check, "gomap scan --json")
    if report:
        check_truth_maps(check, "A (scan)", report, truth(stderr))
        check.that(any("no crash to explain" in n for n in report["notes"]),
                   "A: the report does not say the process did not stop on a signal")
        check.that(any("goroutines may be running" in n for n in report["notes"]),
                   "A: the report does not say goroutines may be running")
    result = handle(debugger, "gomap show main.users")
    if check.that(result.Succeeded(), f"A: gomap show main.users failed: {result.GetError()}"):
        out = result.GetOutput()
        names = ["ann", "bob", "cid", "dan", "eve", "fay", "gus", "hal", "ivy", "jon", "kim", "lea"]
        for i, name in enumerate(names):
            check.that(f'"{name}": {100 + i}' in out, f'A: gomap show main.users lacks "{name}": {100 + i}')
    result = handle(debugger, "gomap check main.churned")
    check.that(result.Succeeded() and "count 1000, live entries found 1000" in result.GetOutput()
               and "findings: none" in result.GetOutput(), f"A: gomap check main.churned: {result.GetOutput()}")
    result = handle(debugger, "gomap goroutines")
    check.that(result.Succeeded() and "goroutine 1 " in result.GetOutput()
               and "main.scenarioHealthy(" in result.GetOutput(),
               "A: gomap goroutines does not list goroutine 1 in main.scenarioHealthy")
    goroutines = gomap_json(debugger, check, "gomap goroutines --json")
    check.that(goroutines is not None and "main.scenarioHealthy" in json.dumps(goroutines),
               "A: gomap goroutines --json lacks main.scenarioHealthy")
    expect_failure(debugger, check, "gomap show", "which map?")
    expect_failure(debugger, check, "gomap scan --frobnicate", "unknown argument '--frobnicate'")
    expect_failure(debugger, check, "gomap scan --format xml", "--format takes text or json, not 'xml'")
    expect_failure(debugger, check, "gomap maps --format json", "--format takes text or jsonl, not 'json'")
    expect_failure(debugger, check, "gomap scan --list-maps some", "--list-maps takes summary or all")
    expect_failure(debugger, check, "gomap maps --max-buckets lots", "--max-buckets takes a non-negative number")
    expect_failure(debugger, check, "gomap show 0x10", "no map named or at '0x10' was found")

    # --- stop B: after the loop; what was read at A must not be reused ---
    continue_until(debugger, check, process, lambda t: t.GetStopReason() == lldb.eStopReasonBreakpoint,
                   "the second breakpoint")
    report = gomap_jsonl(debugger, check, "gomap maps --json")
    records = truth(stderr)
    if report:
        check_truth_maps(check, "B", report, records)
        churned = [m for m in report["maps"] if "main.churned" in m["roots"]]
        printed = [r for r in records if r.get("root") == "main.churned"]
        if check.that(len(churned) == 1 and len(printed) == 1, "B: main.churned not found or not printed"):
            check.that(churned[0]["count"] == 50 and churned[0]["address"] == printed[0]["addr"],
                       f"B: main.churned {churned[0]['address']} count {churned[0]['count']}, the program printed "
                       f"{printed[0]['addr']} count 50")
    result = handle(debugger, "gomap check main.churned --json")
    if check.that(result.Succeeded(), f"B: gomap check --json failed: {result.GetError()}"):
        one = json.loads(result.GetOutput())
        check.that(len(one["maps"]) == 1 and one["maps"][0]["count"] == 50 and one["findings"] == [],
                   "B: gomap check main.churned --json is not the one map with count 50")

    # --- stop C: the crash (SIGABRT after the panic) ---
    continue_until(debugger, check, process,
                   lambda t: t.GetStopReason() == lldb.eStopReasonSignal and t.GetStopReasonDataAtIndex(0) == 6,
                   "the crash's SIGABRT")
    report = gomap_json(debugger, check, "gomap scan --json")
    records = truth(stderr)
    if report:
        n = check_truth_maps(check, "C", report, records)
        check.that(n >= 25, f"C: only {n} maps printed")
        check.that(report["target"]["signal"] == 6, f"C: signal {report['target']['signal']}")
        check.that(report["crash"]["message"] == "healthy: done",
                   f"C: crash message {report['crash']['message']!r}")
        check.that(any("no NT_SIGINFO" in n for n in report["notes"]), "C: the report does not say there is no NT_SIGINFO")
        check.that(report["findings"] == [], f"C: findings on a healthy process: {report['findings']}")
    result = handle(debugger, "gomap scan")
    check.that(result.Succeeded() and "panic: healthy: done" in result.GetOutput(), "C: gomap scan (text)")
    result = handle(debugger, "gomap goroutines")
    if check.that(result.Succeeded(), "C: gomap goroutines failed"):
        out = result.GetOutput()
        for r in records:
            if r["record"] == "goroutine":
                check.that(f"goroutine {r['goid']} " in out and r["function"] + "(" in out,
                           f"C: goroutine {r['goid']} running {r['function']} not listed")
    big = [r for r in records if r["record"] == "map" and r["root"].endswith("main.localHolder big")]
    if check.that(len(big) == 1, "C: the program did not print main.localHolder's big map"):
        result = handle(debugger, f"gomap show {big[0]['addr']} --max-entries 1000")
        # Found from its stack object, its type is not recorded (several candidates): its 300
        # entries are decoded as one of them.
        lines = [l for l in result.GetOutput().splitlines() if re.match(r"\s+\[\d+\] .+: ", l)]
        check.that(result.Succeeded() and len(lines) == 300, f"C: gomap show of the big map decoded {len(lines)} entries")

    # --- the process is gone ---
    handle(debugger, "process kill")
    expect_failure(debugger, check, "gomap scan", "gomap:")

    # --- a program that is not Go ---
    handle(debugger, "target create " + os.environ["GOMAP_NON_GO"])
    result = handle(debugger, "process launch --stop-at-entry")
    if check.that(result.Succeeded(), f"cannot launch {os.environ['GOMAP_NON_GO']}: {result.GetError()}"):
        expect_failure(debugger, check, "gomap scan", "is not a Go program")
        handle(debugger, "process kill")


def __lldb_init_module(debugger, internal_dict):
    debugger.SetAsync(False)
    check = Check()
    result = handle(debugger, "plugin load " + os.environ["GOMAP_PLUGIN"])
    if check.that(result.Succeeded(), "plugin load failed: " + result.GetError()):
        try:
            run(debugger, check)
        finally:
            target = debugger.GetSelectedTarget()
            if target.GetProcess().IsValid():
                target.GetProcess().Kill()
    for p in check.problems:
        print("FAIL " + p)
    print(f"live test: {check.passed} checks passed, {len(check.problems)} failed")
    if not check.problems:
        print("live test: OK")
