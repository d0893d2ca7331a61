"""notebooks/activations_batchnorm.ipynb: stored with its outputs cleared, and every code cell runs
in order (matplotlib on Agg), showing the lecture's numbers."""

import json
import math
import sys
import traceback
from pathlib import Path

import matplotlib
import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "activations_batchnorm.ipynb"


def code_cells(notebook):
    """(index in the notebook, source) of every code cell."""
    return [(i, "".join(cell["source"])) for i, cell in enumerate(notebook["cells"]) if cell["cell_type"] == "code"]


@pytest.fixture(scope="module")
def notebook():
    return json.loads(NOTEBOOK.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def ns(notebook):
    """The namespace after running every code cell, from the repository root, as one script."""
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    namespace = {"__name__": "__main__"}
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(ROOT)
        mp.setattr(sys, "path", list(sys.path))  # the notebook may prepend the repository root
        try:
            for i, source in code_cells(notebook):
                try:
                    exec(compile(source, f"cell {i}", "exec"), namespace)
                except Exception:
                    head = "\n".join(source.splitlines()[:5])
                    pytest.fail(f"cell {i} raised:\n{traceback.format_exc()}\ncell {i} begins:\n{head}")
                plt.close("all")
        finally:
            plt.close("all")
    return namespace


def test_is_a_python3_nbformat4_notebook_with_outputs_cleared(notebook):
    assert notebook["nbformat"] == 4 and notebook["nbformat_minor"] in (4, 5)
    assert notebook["metadata"]["kernelspec"]["name"] == "python3"
    cells = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    assert len(cells) > 10
    for cell in cells:
        assert cell["outputs"] == [], "outputs must be cleared before committing"
        assert cell["execution_count"] is None, "execution counts must be cleared before committing"


def test_cells_are_plain_python_without_magics(notebook):
    for i, source in code_cells(notebook):
        for line in source.splitlines():
            assert not line.lstrip().startswith(("%", "!")), f"cell {i}: {line}"


def test_initial_losses(ns):
    assert ns["expected_loss"] == pytest.approx(-math.log(1 / 27))
    assert ns["loss_init_naive"] > 10  # the lecture's ~27: confidently wrong
    assert abs(ns["loss_init_fix_softmax"] - ns["expected_loss"]) < 0.2
    assert abs(ns["loss_init_kaiming_bn"] - 3.2958) < 0.1


def test_the_tanh_fix_removes_most_saturation(ns):
    assert ns["tanh_before"]["saturated_pct"] > 50
    assert ns["tanh_after"]["saturated_pct"] < 15


def test_deep_stack_statistics(ns):
    stats = ns["deep_stats"]
    assert len(stats) == 6 and all(len(layers) == 5 for layers in stats.values())
    stds = [layer["std"] for layer in stats["1", False]]
    assert stds == sorted(stds, reverse=True)  # gain 1: the activations shrink layer after layer
    assert min(layer["saturated_pct"] for layer in stats["3", False]) > 20  # gain 3: saturated
    for with_bn in stats["1", True], stats["3", True]:  # BatchNorm: the gain no longer matters
        for a, b in zip(with_bn, stats["5/3", True]):
            assert a["std"] == pytest.approx(b["std"], abs=1e-3)


def test_batchnorm_lessons(ns):
    assert ns["loss_running"]["val"] < 3 and ns["loss_calibrated"]["val"] < 3
    assert ns["loss_early_calibrated"] < ns["loss_early_running"]  # the running statistics lag early on
    assert ns["linear"].bias.grad.abs().max().item() < 1e-5 * ns["linear"].weight.grad.abs().max().item()
    assert "Expected more than 1 value per channel when training" in ns["batch_of_one_error"]


def test_update_ratios_and_samples(ns):
    for recorder in ns["update_ratios"].values():
        assert len(recorder.steps) == 1000
    assert len(ns["names"]) == 20 and all(isinstance(name, str) for name in ns["names"])
