"""docs/testing.md, run as a reader runs it: its test files written into an empty
directory and run with pytest, so that the page's examples cannot rot."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from . import docpage
from .conftest import ROOT

PAGE = ROOT / "docs" / "testing.md"


def test_the_testing_page_runs(tmp_path: Path) -> None:
    blocks = docpage.parse(PAGE.read_text())
    titles = [b.title for b in blocks if b.kind == "file"]
    assert titles == ["test_shelves.py", "test_http.py", "test_lambda.py"]
    state = tmp_path / ".state"
    state.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONSTARTUP", "PYTEST_ADDOPTS")}
    # The page runs from the repository root, where `examples` is a package.
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "src")])
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    # The last block compares pytest's summary: all four of the page's tests pass.
    assert blocks[-1].kind == "compare"
    docpage.run_page(blocks, docpage.Shell(tmp_path, env, state), {}, timeout=120)
