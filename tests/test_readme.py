"""README's Python tour runs as written (so the README stays true)."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_python_tour_runs():
    text = README.read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks, "README has no python block"
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, str(README), "exec"), namespace)
    effect = namespace["effect"]
    assert effect.double_agent
    assert set(namespace["profile"].predict_risk_profile(namespace["df"].head(1), [5])) == {
        "bone",
        "brain",
        "death",
        "liver",
        "lung",
    }


def test_commands_are_the_ci_commands():
    text = README.read_text()
    ci = (README.parent / ".ci" / "run").read_text()
    assert "<!-- test-command -->" in text and "<!-- main-command -->" in text
    assert 'pip install -e ".[dev]" && pytest' in text
    assert 'pip install -e ".[dev]" && survkit report --out report/' in text
    assert "test-command" in ci
