"""Every Python block of the README runs as written."""

import re
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.mark.slow
def test_readme_python_blocks_run():
    import matplotlib.pyplot as plt

    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    # blocks listing call patterns with "..." for the arguments are a menu, not a program
    blocks = [b for b in blocks if "(..." not in b]
    assert len(blocks) >= 3
    namespace = {}
    for block in blocks:
        exec(compile(block, str(README), "exec"), namespace)
    plt.close("all")
    res = namespace["res"]
    assert res.converged
