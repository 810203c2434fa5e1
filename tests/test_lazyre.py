"""lazy_compile: a pattern compiled on first use answers as the compiled one does."""

from __future__ import annotations

import re
import subprocess
import sys

from grpcgw.lazyre import lazy_compile

from .conftest import ROOT


def test_a_lazy_pattern_answers_as_the_compiled_one() -> None:
    source = r"(?P<n>[0-9]+)([a-z]?)"
    lazy, compiled = lazy_compile(source), re.compile(source)
    text = "12a 7 x 345b"
    assert lazy.pattern == compiled.pattern
    assert lazy.groups == compiled.groups
    assert lazy.groupindex == compiled.groupindex
    for method in ("match", "fullmatch", "search"):
        for sample in (text, "12a", "x"):
            got, want = getattr(lazy, method)(sample), getattr(compiled, method)(sample)
            assert (got and got.groups()) == (want and want.groups())
    assert lazy.findall(text) == compiled.findall(text)
    assert [m.span() for m in lazy.finditer(text)] == [m.span() for m in compiled.finditer(text)]
    assert lazy.sub("#", text) == compiled.sub("#", text)
    assert lazy.subn("#", text) == compiled.subn("#", text)
    assert lazy.split(text) == compiled.split(text)
    binary = lazy_compile(rb"%[0-9A-F]{2}", re.IGNORECASE)
    assert binary.sub(b"", b"a%2fb%41") == b"ab"


def test_importing_the_lambda_path_compiles_only_what_it_uses() -> None:
    """The patterns only errors and rare inputs need are not compiled at import."""
    code = (
        "import re, sys\n"
        "import grpcgw.awslambda.handler, grpcgw.dispatch\n"
        "from grpcgw import errors, transcode\n"
        "from grpcgw.protojson import _strict\n"
        "lazy = [errors._TRANSPORT, transcode._GO_DURATION_PART, _strict._TIMESTAMP]\n"
        "print(all('_source' in vars(p) and 'match' not in vars(p) for p in lazy))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT / "src")},
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "True"
