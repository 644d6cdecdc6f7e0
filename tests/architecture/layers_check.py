#!/usr/bin/env python3
"""Fails when the engine's layering (docs/architecture.md) is broken.

Each folder of analyzer/src is a layer; a file may include headers of its own layer and the
layers below it, never above. The public headers (analyzer/include/gomapcore) are placed at the
layer of what they describe. Front ends (gui/, plugins/, analyzer/cli/) may include only the
public headers.

usage: layers_check.py REPO
"""
import pathlib
import re
import sys

LAYERS = ["support", "arch", "core", "binary", "runtime", "maps", "analysis", "render"]
# Public headers and the layer whose concepts they hold.
PUBLIC = {
    "gomapcore/error.h": "support",
    "gomapcore/memory.h": "support",
    "gomapcore/budget.h": "support",
    "gomapcore/limits.h": "support",
    "gomapcore/progress.h": "support",
    "gomapcore/target.h": "support",
    "gomapcore/map_model.h": "maps",
    "gomapcore/crash.h": "analysis",
    "gomapcore/report.h": "analysis",
    "gomapcore/analysis.h": "analysis",
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def layer_of_include(name):
    if name in PUBLIC:
        return PUBLIC[name]
    head = name.split("/", 1)[0]
    return head if head in LAYERS else None


def main(repo):
    repo = pathlib.Path(repo)
    problems = []
    src = repo / "analyzer" / "src"
    for path in sorted(src.rglob("*")):
        if path.suffix not in (".h", ".cpp"):
            continue
        own = path.relative_to(src).parts[0]
        if own not in LAYERS:
            problems.append(f"{path}: not in a layer folder ({', '.join(LAYERS)})")
            continue
        for name in INCLUDE.findall(path.read_text()):
            layer = layer_of_include(name)
            if layer is None:
                problems.append(f"{path}: includes {name}, which is in no layer")
            elif LAYERS.index(layer) > LAYERS.index(own):
                problems.append(f"{path} ({own}) includes {name} ({layer}), a higher layer")
    public = repo / "analyzer" / "include" / "gomapcore"
    for path in sorted(public.glob("*.h")):
        name = f"gomapcore/{path.name}"
        if name not in PUBLIC:
            problems.append(f"{path}: a public header this check does not know; add it to PUBLIC")
            continue
        for included in INCLUDE.findall(path.read_text()):
            if included not in PUBLIC:
                problems.append(f"{path}: the public API includes the internal header {included}")
    for front in ("gui", "plugins", "analyzer/cli"):
        for path in sorted((repo / front).rglob("*")):
            if path.suffix not in (".h", ".cpp"):
                continue
            for name in INCLUDE.findall(path.read_text()):
                if name.startswith("gomapcore/") and name not in PUBLIC:
                    problems.append(f"{path}: front end includes {name}, not in the public API")
                elif layer_of_include(name) is not None and name not in PUBLIC:
                    problems.append(f"{path}: front end includes the engine internal {name}")
    for p in problems:
        print(p)
    print(f"layers: {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "."))
