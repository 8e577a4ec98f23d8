"""Every Python block of bindings/python/README.md and docs/api.md runs, from
the top of the source tree (their paths are relative to it), so the
documented examples stay true."""
import pathlib
import re

import pytest

HERE = pathlib.Path(__file__).resolve().parents[1]
DOCS = [HERE / "README.md", HERE.parents[1] / "docs" / "api.md"]
BLOCKS = [
    (doc, code)
    for doc in DOCS
    for code in re.findall(r"^```python\n(.*?)^```", doc.read_text(), re.S | re.M)
]


@pytest.mark.parametrize("doc", DOCS, ids=[d.name for d in DOCS])
def test_doc_has_an_example(doc):
    assert any(d == doc for d, _ in BLOCKS)


@pytest.mark.parametrize(
    "doc,code", BLOCKS, ids=["%s-block%d" % (d.name, i) for i, (d, _) in enumerate(BLOCKS)]
)
def test_doc_example_runs(src, monkeypatch, doc, code):
    monkeypatch.chdir(src)
    exec(compile(code, str(doc), "exec"), {"__name__": "__doc__"})
