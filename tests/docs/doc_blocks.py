#!/usr/bin/env python3
"""Every fenced block of README.md and docs/*.md is an example that a test
runs, or says why it is not one (issue: documentation that cannot drift).

The line before a block is a marker comment, one of:
  <!-- doc: trace [exit=N] [args=ARGS] -->  replayed by `iommusim replay ARGS`,
                                             which must exit N (default 0)
  <!-- doc: sh [exit=N] -->                  run with bash -e from a directory
                                             shaped like the source tree with
                                             the build in build/ (every command
                                             must succeed; N for the last)
  <!-- doc: config -->                       a model configuration: a replay
                                             of examples/amdv1-basic.trace with
                                             --config must exit 0
  <!-- doc: suite -->                        a conformance suite: `conform
                                             --suite` must exit 0
  <!-- doc: file PATH -->                    each line of the block is in file
                                             PATH (spaces aside), which the
                                             build compiles or a test runs
  <!-- doc: plugin trace=PATH [exit=N] -->   a walker plug-in: compiled against
                                             include/ and replayed with PATH
  <!-- doc: sh stdout=next -->               as sh, and the next block (marked
                                             `doc: text output ...`) is in
                                             what the commands print
  <!-- example NAME --> / <!-- output NAME --> run by their own ctest
                                             (tests/docs/*.cmake, python.pytest)
  <!-- doc: text REASON -->                  not something to run (a grammar,
                                             a diagram, sample output, a
                                             command that takes minutes or
                                             needs what a test cannot have),
                                             with the reason
A block without a marker fails the test: a new example must be run or say
why not.

Usage: doc_blocks.py SRC BUILD WORK [FILE...] (default: README.md docs/*.md)
"""
import os
import pathlib
import re
import shlex
import shutil
import subprocess
import sys

MARK = re.compile(r"^<!-- (doc: (\w+)(.*?)|example [\w.-]+|output [\w.-]+) -->$")
FENCE = re.compile(r"^```")


def blocks(path):
    """(line of the fence, marker line or None, info string, body)."""
    lines = path.read_text().split("\n")
    i = 0
    while i < len(lines):
        if FENCE.match(lines[i]):
            start = i
            info = lines[i][3:].strip()
            j = i + 1
            while j < len(lines) and not FENCE.match(lines[j]):
                j += 1
            if j >= len(lines):
                yield start + 1, None, info, None
                return
            prev = start - 1
            while prev >= 0 and not lines[prev].strip():
                prev -= 1
            marker = lines[prev].strip() if prev >= 0 else None
            yield start + 1, marker, info, "\n".join(lines[start + 1:j]) + "\n"
            i = j + 1
        else:
            i += 1


def sandbox(src, build, work):
    """A directory shaped like the source tree, the build in build/."""
    if os.path.lexists(work):
        shutil.rmtree(work)
    os.makedirs(work)
    for name in os.listdir(src):
        if name in ("build", ".git") or name.startswith("build-"):
            continue
        os.symlink(os.path.join(src, name), os.path.join(work, name))
    os.symlink(build, os.path.join(work, "build"))
    return work


def run(cmd, cwd, want, what, out=None):
    """None, or what failed; out (a list) gets the standard output when
    given, standard error apart (else the two are one, for the report)."""
    p = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE if out is not None else subprocess.STDOUT,
                       text=True, errors="replace", timeout=600)
    if out is not None:
        out.append(p.stdout)
    if p.returncode != want:
        return "%s: exit %d, expected %d\n%s" % (what, p.returncode, want,
                                                 (p.stdout + (p.stderr or ""))[-3000:])
    return None


def main():
    src, build, work = (os.path.abspath(a) for a in sys.argv[1:4])
    files = [pathlib.Path(src, f) for f in sys.argv[4:]] or \
        [pathlib.Path(src, "README.md")] + sorted(pathlib.Path(src, "docs").glob("*.md"))
    exe = os.path.join(build, "iommusim")
    failures, ran, texts = [], 0, 0
    for path in files:
        rel = os.path.relpath(path, src)
        bl = list(blocks(path))
        for n, (line, marker, info, body) in enumerate(bl):
            where = "%s:%d" % (rel, line)
            if body is None:
                failures.append("%s: a fence that is never closed" % where)
                continue
            m = MARK.match(marker or "")
            if not m:
                failures.append("%s: a %s block with no <!-- doc: ... --> marker before it "
                                "(run it, or say why not with `doc: text REASON`)"
                                % (where, info or "plain"))
                continue
            if not m.group(2):  # example / output: their own tests
                continue
            kind, rest = m.group(2), m.group(3).strip()
            opts = dict(kv.split("=", 1) for kv in shlex.split(rest) if "=" in kv) \
                if kind != "text" else {}
            want = int(opts.get("exit", "0"))
            d = os.path.join(work, "%s-%d" % (rel.replace("/", "_"), n))
            if kind == "text":
                if not rest:
                    failures.append("%s: `doc: text` needs a reason" % where)
                texts += 1
                continue
            if kind == "trace":
                os.makedirs(d, exist_ok=True)
                t = os.path.join(d, "example.trace")
                pathlib.Path(t).write_text(body)
                err = run([exe, "replay", "-q"] + shlex.split(opts.get("args", "")) + [t],
                          d, want, where + " (replay)")
            elif kind == "config":
                os.makedirs(d, exist_ok=True)
                c = os.path.join(d, "model.yaml")
                pathlib.Path(c).write_text(body)
                err = run([exe, "replay", "-q", "--config", c,
                           os.path.join(src, "examples", "amdv1-basic.trace")],
                          d, want, where + " (config)")
            elif kind == "suite":
                os.makedirs(d, exist_ok=True)
                c = os.path.join(d, "suite.yaml")
                pathlib.Path(c).write_text(body)
                err = run([exe, "conform", "-q", "--suite", c], d, want, where + " (suite)")
            elif kind == "sh":
                box = sandbox(src, build, d)
                pathlib.Path(box, "commands.sh").write_text(body)
                out = [] if opts.get("stdout") == "next" else None
                err = run(["bash", "-e", "commands.sh"], box, want, where + " (commands)", out)
                if not err and out is not None:
                    shown = bl[n + 1][3] if n + 1 < len(bl) else None
                    if shown is None or shown not in out[0]:
                        err = "%s: the next block is not what the commands print:\n%s" % (
                            where, out[0][-3000:])
            elif kind == "file":
                target = pathlib.Path(src, rest.split()[0])
                flat = lambda t: " ".join(t.split())
                if not target.is_file():
                    err = "%s: %s does not exist" % (where, rest)
                elif any(flat(l) not in flat(target.read_text())
                         for l in body.split("\n") if l.strip()):
                    err = "%s: a line of the block is not in %s any more" % (where, rest)
                else:
                    err = None
            elif kind == "plugin":
                os.makedirs(d, exist_ok=True)
                c = os.path.join(d, "walker.c")
                pathlib.Path(c).write_text(body)
                so = os.path.join(d, "walker.so")
                err = run(["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC",
                           "-I" + os.path.join(src, "include"), c, "-o", so], d, 0,
                          where + " (compile)")
                if not err:
                    err = run([exe, "replay", "-q", "--walker-plugin", so,
                               os.path.join(src, opts["trace"])], d, want, where + " (replay)")
            else:
                err = "%s: unknown marker kind '%s'" % (where, kind)
            ran += 1
            if err:
                failures.append(err)
    for f in failures:
        print("FAIL:", f)
    print("doc blocks: %d run, %d marked text, %d failed" % (ran, texts, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
