"""Every Python block of bindings/python/README.md runs, from the top of the
source tree (its paths are relative to it), so the documented examples stay
true."""
import pathlib
import re

import pytest

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"^```python\n(.*?)^```", README.read_text(), re.S | re.M)


def test_readme_has_an_example():
    assert BLOCKS


@pytest.mark.parametrize("code", BLOCKS, ids=["block%d" % i for i in range(len(BLOCKS))])
def test_readme_example_runs(src, monkeypatch, code):
    monkeypatch.chdir(src)
    exec(compile(code, str(README), "exec"), {"__name__": "__readme__"})
