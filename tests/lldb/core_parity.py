"""Runs inside lldb-19 (command script import): the plugin's reports on corpus cores, read
through LLDB's SB API, against the CLI's reports on the same cores, read by gomapcore's own core
reader.

For each case: `gomap scan --json` has the same maps, nil maps, findings, summary, target, crash,
limits and notes as `gomapcore analyze --format json` (input paths compared after resolving them:
LLDB makes them absolute). For healthy cases also `gomap goroutines --json` against
`gomapcore goroutines --format json`, `gomap maps [--json]` against `gomapcore maps [--format
jsonl]`, and `gomap show main.users` against `gomapcore show`.

Environment: GOMAP_PLUGIN, GOMAP_CLI, GOMAP_CORPUS (the unpacked corpus), GOMAP_CASES
("build/scenario,..." or "all").
"""
import json
import os
import subprocess
import sys

import lldb


def handle(debugger, command):
    result = lldb.SBCommandReturnObject()
    debugger.GetCommandInterpreter().HandleCommand(command, result)
    return result


def cli(*args):
    return subprocess.run([os.environ["GOMAP_CLI"], *args], capture_output=True, text=True)


def cases(corpus, spec):
    if spec != "all":
        return [tuple(c.split("/")) for c in spec.split(",")]
    found = []
    for build in sorted(os.listdir(corpus)):
        folder = os.path.join(corpus, build)
        if not os.path.isdir(folder):
            continue
        for name in sorted(os.listdir(folder)):
            if name.endswith(".core"):
                found.append((build, name[: -len(".core")]))
    return found


def compare_case(debugger, corpus, build, scenario, problems):
    exe = os.path.join(corpus, build, "mapcrash")
    core = os.path.join(corpus, build, scenario + ".core")
    label = f"{build}/{scenario}"
    expected_run = cli("analyze", core, "--exe", exe, "--format", "json", "--fail-on", "never")
    if expected_run.returncode != 0:
        problems.append(f"{label}: the CLI failed: {expected_run.stderr.strip()}")
        return
    expected = json.loads(expected_run.stdout)
    error = lldb.SBError()
    # LLDB takes the OS from notes the kernel writes; qemu-aarch64's cores (the arm64 corpus)
    # lack them ("Unsupported OS"), so their triple is given.
    triple = "aarch64-unknown-linux-gnu" if build.startswith("arm64-") else None
    target = debugger.CreateTarget(exe, triple, None, True, error)
    if not target.IsValid():
        problems.append(f"{label}: lldb cannot create a target: {error}")
        return
    try:
        process = target.LoadCore(core, error)
        if not process.IsValid():
            problems.append(f"{label}: lldb cannot load the core: {error}")
            return
        debugger.SetSelectedTarget(target)
        result = handle(debugger, "gomap scan --json")
        if not result.Succeeded():
            problems.append(f"{label}: gomap scan --json failed: {result.GetError().strip()}")
            return
        got = json.loads(result.GetOutput())
        # A core without NT_FILE (qemu-aarch64's) makes the CLI match the executable against the
        # core's mappings, and say so; LLDB's target knows where it loaded the executable, so the
        # plugin has file mappings and no such note.
        expected["notes"] = [n for n in expected.get("notes", []) if not n.startswith("the core has no file mappings")]
        for key in ("schema", "tool", "target", "summary", "maps", "nil_maps", "findings", "crash",
                    "limits_hit", "notes"):
            if got.get(key) != expected.get(key):
                problems.append(f"{label}: '{key}' differs:\n  lldb: {json.dumps(got.get(key))[:600]}\n"
                                f"  cli:  {json.dumps(expected.get(key))[:600]}")
        for key in ("core", "executable"):
            if os.path.realpath(got["input"][key]) != os.path.realpath(expected["input"][key]):
                problems.append(f"{label}: input.{key} differs: {got['input'][key]} vs {expected['input'][key]}")
        if scenario != "healthy":
            return
        want = cli("goroutines", core, "--exe", exe, "--format", "json").stdout
        result = handle(debugger, "gomap goroutines --json")
        if not result.Succeeded() or json.loads(result.GetOutput()) != json.loads(want):
            problems.append(f"{label}: gomap goroutines --json differs from the CLI's")
        want = cli("maps", core, "--exe", exe, "--format", "jsonl").stdout
        result = handle(debugger, "gomap maps --json")
        if not result.Succeeded() or result.GetOutput() != want:
            problems.append(f"{label}: gomap maps --json differs from the CLI's maps --format jsonl")
        want = cli("maps", core, "--exe", exe).stdout
        result = handle(debugger, "gomap maps")
        if not result.Succeeded() or result.GetOutput() != want:
            problems.append(f"{label}: gomap maps differs from the CLI's maps")
        want = cli("show", core, "main.users", "--exe", exe).stdout
        result = handle(debugger, "gomap show main.users")
        if not result.Succeeded() or result.GetOutput() != want:
            problems.append(f"{label}: gomap show main.users differs from the CLI's:\n{result.GetOutput()}\n{want}")
    finally:
        debugger.DeleteTarget(target)


def main(debugger):
    debugger.SetAsync(False)
    plugin = handle(debugger, "plugin load " + os.environ["GOMAP_PLUGIN"])
    if not plugin.Succeeded():
        return ["plugin load failed: " + plugin.GetError()]
    corpus = os.environ["GOMAP_CORPUS"]
    problems = []
    checked = cases(corpus, os.environ.get("GOMAP_CASES", "all"))
    for build, scenario in checked:
        compare_case(debugger, corpus, build, scenario, problems)
    print(f"core parity: {len(checked)} case(s) compared, {len(problems)} problem(s)")
    return problems


def __lldb_init_module(debugger, internal_dict):
    problems = main(debugger)
    for p in problems:
        print("FAIL " + p)
    sys.stdout.flush()
    if problems:
        raise RuntimeError("core parity failed")
    print("core parity: OK")
