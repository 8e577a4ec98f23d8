"""iommusim.replay against `iommusim replay --json` on the repository's
traces, and the failure records of the traces that must fail."""
import json
import shlex
import subprocess

import pytest

import iommusim
from iommusim import Error, FailureKind


def replay_args(path):
    """replay()'s keyword arguments for a trace's `# replay-args:` line
    (the command reads that line; the library leaves it to the caller)."""
    kw = {}
    with open(path, "rb") as f:
        for raw in f:
            line = raw.decode("utf-8", "replace")
            if line.startswith("# replay-args:"):
                words = shlex.split(line[len("# replay-args:"):])
                while words:
                    opt, arg = words.pop(0), words.pop(0)
                    if opt == "--walker":
                        kw["walker"] = arg
                    elif opt in ("--replica", "--seed"):
                        kw.setdefault("settings", {})[opt[2:]] = arg
                    elif opt == "--set":
                        key, _, value = arg.partition("=")
                        kw.setdefault("settings", {})[key] = value
                    else:
                        pytest.skip("replay-args option %s is not mapped here" % opt)
            elif not line.startswith(("#", "iommusim-trace")):
                break
    return kw


def cli_records(cli, traces):
    out = subprocess.run([cli, "replay", "-q", "--json", "-"] + [str(t) for t in traces],
                         capture_output=True, check=False)
    assert out.returncode in (0, 1), out.stderr.decode()
    return {r["file"]: r for r in json.loads(out.stdout)["traces"]}


def test_golden_traces_match_the_command(src, cli):
    traces = sorted((src / "tests" / "traces").rglob("*.trace"))
    assert len(traces) >= 40
    want = cli_records(cli, traces)
    for t in traces:
        res = iommusim.replay(t, **replay_args(t))
        rec = want[str(t)]
        assert rec["status"] == 0 and res.passed, t
        assert res.walker == rec["walker"], t
        # The whole record: counters, model and memory counts, timing.
        assert res.summary == rec["summary"], t
        for key, value in res.stats.items():
            assert rec["summary"].get(key, value) == value, (t, key)
        assert res.failures == []


def harvest_lines(path):
    with open(path) as f:
        return [n for n, line in enumerate(f, 1) if line.startswith("harvest ")]


def test_failing_trace_records_dirty_reads(src, cli):
    """bug8-word-end leaves out a bitmap word whose run ends on bit 63. The
    trace writes page 63 of a 256 KiB range (bit 63 of word 0) and one byte
    of a 2 MiB leaf (512 bits, words 0..7): the walker reports neither that
    bit nor the last word, 64 pages from 0x200000 + 448 * 4K."""
    t = src / "tests" / "traces-fail" / "bug8-word-end.trace"
    kw = replay_args(t)
    assert kw == {"walker": "bug8-word-end"}
    seen = []
    res = iommusim.replay(t, on_failure=seen.append, **kw)
    assert not res.passed and res.walker == "bug8-word-end"
    assert seen == res.failures
    dirty = [f for f in res.failures if f.kind == FailureKind.DIRTY_READ]
    first, second = harvest_lines(t)
    assert [(f.line, f.under, f.over, f.first_under_iova) for f in dirty] == [
        (first, 1, 0, 0x13f000), (second, 64, 0, 0x200000 + 448 * 0x1000)]
    assert all(f.file == str(t) and f.domain == 1 for f in dirty)
    assert dirty[0].expected.bits == 1 << 63 and dirty[0].got.bits == 0
    assert dirty[1].expected.count() == 512 and dirty[1].got.count() == 448
    # The trace's own expect= keys fail as well.
    assert {f.kind for f in res.failures} == {FailureKind.DIRTY_READ, FailureKind.EXPECT}
    rec = cli_records(cli, [t])[str(t)]
    assert rec["status"] == 1
    assert res.summary == rec["summary"]
    assert len(res.failures) == res.stats["validation_failures"]
    # The correct walker passes the same trace.
    assert iommusim.replay(t).passed


def test_failing_trace_records_lost_update(src):
    t = src / "tests" / "traces-fail" / "bug4-lost-update.trace"
    res = iommusim.replay(t, **replay_args(t))
    (f,) = res.failures
    assert f.kind == FailureKind.LOST_UPDATE and f.line == harvest_lines(t)[-1]
    assert "lost hardware update" in f.message


def test_every_failing_trace_fails(src, cli):
    traces = sorted((src / "tests" / "traces-fail").glob("*.trace"))
    assert traces
    want = cli_records(cli, traces)
    for t in traces:
        res = iommusim.replay(t, **replay_args(t))
        assert not res.passed and res.failures, t
        assert len(res.failures) == res.stats["validation_failures"], t
        assert want[str(t)]["summary"]["validation_failures"] == len(res.failures), t


def test_replay_input_errors(tmp_path):
    bad = tmp_path / "bad.trace"
    bad.write_text("iommusim-trace 1\ndomain id=1 format=amdv1\nmap domain=1 iova=0x1001 pa=0 size=4K\n")
    with pytest.raises(Error, match=r"bad\.trace:3:\d+: .*0x1001"):
        iommusim.replay(bad)
    with pytest.raises(Error, match="no-such.trace"):
        iommusim.replay(tmp_path / "no-such.trace")
    with pytest.raises(Error, match="unknown walker"):
        iommusim.replay(bad, walker="nope")


def test_replay_callback_exception(src):
    t = src / "tests" / "traces-fail" / "bug8-word-end.trace"

    def boom(f):
        raise KeyError(f.line)

    with pytest.raises(KeyError):
        iommusim.replay(t, walker="bug8-word-end", on_failure=boom)
