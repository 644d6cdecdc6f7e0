#!/usr/bin/env python3
"""The README's SQLite example (issue #16), run as written over a corpus `gomapcore batch` run.

usage: sqlite_check.py GOMAPCORE README CORPUS MALFORMED_DIR WORKDIR

Writes reports.jsonl with `gomapcore batch` over two corpus folders and two inputs that cannot be
analyzed, runs the shell block between the README's `sqlite-example` markers in WORKDIR, and
checks what SQLite made of the lines against the lines themselves: one row a line, each core's
input, error, crash kind and error count, the findings view, and the two queries' output.
"""
import collections
import json
import os
import shutil
import subprocess
import sys

from pipeline_common import verdict


def readme_block(readme):
    text = open(readme, encoding="utf-8").read()
    begin = text.index("<!-- sqlite-example: begin -->")
    end = text.index("<!-- sqlite-example: end -->")
    block = text[begin:end].split("\n")
    fences = [i for i, line in enumerate(block) if line.startswith("```")]
    if len(fences) != 2:
        raise ValueError("the sqlite example is not one fenced block")
    return "\n".join(block[fences[0] + 1:fences[1]]) + "\n"


def sql(db, query):
    return subprocess.run(["sqlite3", db, query], capture_output=True, text=True, check=True).stdout.splitlines()


def main(gomapcore, readme, corpus, malformed, work):
    problems = []
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    builds = ["go1.23", "go1.26"]
    broken = [os.path.join(malformed, "inputs", "healthy-truncated.core.zst"),
              os.path.join(malformed, "inputs", "random.core")]
    options = ["--no-debuginfod", "--jobs", "2", "--output", os.path.join(work, "reports.jsonl")]
    for b in builds:
        options += ["--exe-dir", os.path.join(corpus, b)]
    batch = subprocess.run([gomapcore, "batch", *[os.path.join(corpus, b) for b in builds], *broken, *options],
                           capture_output=True, text=True, timeout=600)
    if batch.returncode != 2:
        problems.append(f"batch exit {batch.returncode}, expected 2: {batch.stderr.strip()}")
    reports = [json.loads(line) for line in open(os.path.join(work, "reports.jsonl"), encoding="utf-8")]
    if len(reports) < 10:
        problems.append(f"only {len(reports)} lines from batch")

    example = subprocess.run(["bash", "-euo", "pipefail", "-c", readme_block(readme)], cwd=work,
                             capture_output=True, text=True, timeout=120)
    if example.returncode != 0:
        return verdict([f"the README example exits {example.returncode}: {example.stderr.strip()}"], "")
    db = os.path.join(work, "crashes.db")

    rows = sql(db, "SELECT count(*) FROM report")
    if rows != [str(len(reports))]:
        problems.append(f"report holds {rows} rows for {len(reports)} lines")
    def core(r):  # a report names its input {"core", ...}; an error line by the path alone
        return r["input"]["core"] if isinstance(r["input"], dict) else r["input"]

    want = sorted("|".join([core(r), r.get("error") or "", (r.get("crash") or {}).get("kind") or "",
                            str(r["summary"]["findings"]["error"]) if "summary" in r else ""]) for r in reports)
    got = sorted(sql(db, "SELECT input, coalesce(error, ''), coalesce(crash_kind, ''), coalesce(errors, '') "
                         "FROM core"))
    if got != want:
        problems.append("the core view differs from the lines:\n    " + "\n    ".join(
            sorted(set(got) ^ set(want))[:10]))
    if sum(1 for r in reports if "error" in r) != len(broken):
        problems.append("the inputs that cannot be analyzed do not each have an error line")

    # The two queries' output, computed from the lines.
    kinds = collections.Counter(r["crash"]["kind"] for r in reports if "error" not in r)
    want_kinds = [f"{k}|{n}" for k, n in sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))]
    rules = collections.defaultdict(set)
    for r in reports:
        for f in r.get("findings", []):
            if f["severity"] == "error":
                rules[f["rule"]].add(core(r))
    want_rules = [f"{rule}|{len(inputs)}" for rule, inputs in sorted(rules.items())]
    lines = example.stdout.splitlines()
    if lines != want_kinds + want_rules:
        problems.append(f"the example's queries print {lines}, expected {want_kinds + want_rules}")
    if not want_rules or len(want_kinds) < 4:
        problems.append("the corpus run has too few crash kinds or rules to check the queries by")
    return verdict(problems, f"sqlite example: OK ({len(reports)} lines, {len(want_kinds)} crash kinds, "
                             f"{len(want_rules)} rules)")


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
