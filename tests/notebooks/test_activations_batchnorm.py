"""notebooks/activations_batchnorm.ipynb, run as a learner runs it: stored with its outputs cleared,
executed cell by cell in a real Jupyter kernel (nbclient + ipykernel, `%matplotlib inline`), with
no error output, its figures and the graph picture shown inline, tensors shown as PyTorch shows
them, and the lecture's numbers read back from the kernel.

The kernel is ipykernel's own "python3" spec, which runs this python (sys.executable): nothing has
to be installed with `ipykernel install`, so CI needs only `pip install -e '.[test]'`."""

import json
import os
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="the notebook test needs nbformat (pip install -e '.[test]')")
nbclient = pytest.importorskip("nbclient", reason="the notebook test needs nbclient (pip install -e '.[test]')")
pytest.importorskip("ipykernel", reason="the notebook test needs ipykernel (pip install -e '.[test]')")
from jupyter_client.kernelspec import KernelSpecManager  # noqa: E402  (jupyter_client comes with nbclient)
from jupyter_client.manager import KernelManager  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "activations_batchnorm.ipynb"
MARK = "LESSON-VALUES "
# The cells that draw a matplotlib figure (one each), shown inline as PNG.
FIGURE_CELLS = ["cell-15", "cell-17", "cell-19", "cell-29", "cell-30", "cell-38", "cell-43", "cell-54"]

# Appended to the executed copy only: the lesson's numbers, read from the kernel's variables.
FINAL_CELL = """
import json as _json, sys as _sys
print(%r + _json.dumps({
    "executable": _sys.executable,
    "backend": plt.get_backend(),
    "expected_loss": expected_loss,
    "loss_init_naive": loss_init_naive,
    "loss_init_fix_softmax": loss_init_fix_softmax,
    "loss_init_kaiming_bn": loss_init_kaiming_bn,
    "tanh_before": tanh_before["saturated_pct"],
    "tanh_after": tanh_after["saturated_pct"],
    "deep_stats": [[gain, bn, [{"std": l["std"], "saturated_pct": l["saturated_pct"]} for l in layers]]
                   for (gain, bn), layers in deep_stats.items()],
    "loss_running": loss_running, "loss_calibrated": loss_calibrated,
    "loss_early_running": loss_early_running, "loss_early_calibrated": loss_early_calibrated,
    "bias_grad_max": linear.bias.grad.abs().max().item(),
    "weight_grad_max": linear.weight.grad.abs().max().item(),
    "batch_of_one_error": batch_of_one_error,
    "update_ratio_steps": [len(r.steps) for r in update_ratios.values()],
    "names": names,
    "batch_shown": Xb[:4].tolist(),
    "logits_shown": logits[0, :6].tolist(),
    "parameter_names": [name for name, _ in probe.named_parameters()],
}, default=float))
""" % MARK


def code_cells(notebook):
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def this_pythons_kernel() -> KernelManager:
    """The notebook's "python3" kernel from ipykernel's own spec (argv: sys.executable), not from a
    kernelspec that `ipykernel install` may have left in a data directory for another python."""
    specs = KernelSpecManager(kernel_dirs=[], ensure_native_kernel=True)
    km = KernelManager(kernel_name="python3", kernel_spec_manager=specs)
    assert Path(km.kernel_spec.argv[0]).resolve() == Path(sys.executable).resolve(), km.kernel_spec.argv
    return km


@pytest.fixture(scope="module")
def stored():
    return nbformat.read(NOTEBOOK, as_version=4)


@pytest.fixture(scope="module")
def executed(stored, tmp_path_factory):
    """The notebook executed in a kernel from the repository root, written out as a learner's
    Jupyter saves it, and read back."""
    import matplotlib.font_manager  # noqa: F401  (a fresh machine builds its font cache here, not in a cell's stderr)

    notebook = nbformat.from_dict(json.loads(json.dumps(stored)))  # a deep copy
    notebook.cells.append(nbformat.v4.new_code_cell(FINAL_CELL, id="test-values"))
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}  # the kernel's default: inline
    client = nbclient.NotebookClient(
        notebook, km=this_pythons_kernel(), timeout=300, allow_errors=True, resources={"metadata": {"path": str(ROOT)}}
    )
    client.execute(env=env)
    path = tmp_path_factory.mktemp("executed") / NOTEBOOK.name
    nbformat.write(notebook, path)
    return nbformat.read(path, as_version=4)


@pytest.fixture(scope="module")
def values(executed):
    text = "".join(out.get("text", "") for out in executed.cells[-1].outputs if out.output_type == "stream")
    lines = [line for line in text.splitlines() if line.startswith(MARK)]
    if not lines:
        pytest.fail("the notebook did not run to its end (see test_every_cell_runs_without_error_output)")
    return json.loads(lines[0][len(MARK):])


def outputs_of(executed, cell_id):
    return next(cell for cell in executed.cells if cell.get("id") == cell_id).outputs


def test_is_a_python3_nbformat4_notebook_with_outputs_cleared(stored):
    nbformat.validate(stored)
    assert stored.nbformat == 4 and stored.nbformat_minor in (4, 5)
    assert stored.metadata.kernelspec.name == "python3"
    cells = code_cells(stored)
    assert len(cells) > 10
    assert "%matplotlib inline" in cells[0].source.splitlines()  # as the lecture's notebooks start
    for cell in cells:
        assert cell.outputs == [], "outputs must be cleared before committing"
        assert cell.execution_count is None, "execution counts must be cleared before committing"


def test_every_cell_runs_without_error_output(executed):
    nbformat.validate(executed)
    for i, cell in enumerate(code_cells(executed)):
        assert cell.execution_count is not None, f"code cell {i} did not run"
        for out in cell.outputs:
            head = "\n".join(cell.source.splitlines()[:5])
            if out.output_type == "error":
                pytest.fail(f"code cell {i} raised {out.ename}: {out.evalue}\n" + "\n".join(out.traceback) + f"\ncell begins:\n{head}")
            if out.output_type == "stream" and out.name == "stderr":
                pytest.fail(f"code cell {i} wrote to stderr:\n{out.text}\ncell begins:\n{head}")


def test_kernel_is_this_python_with_inline_figures(executed, values):
    assert Path(values["executable"]).resolve() == Path(sys.executable).resolve()
    assert "inline" in values["backend"]
    for cell_id in FIGURE_CELLS:
        shown = [out for out in outputs_of(executed, cell_id) if "image/png" in out.get("data", {})]
        assert shown, f"{cell_id} shows no figure"
    assert sum("image/png" in out.get("data", {}) for cell in code_cells(executed) for out in cell.outputs) == len(FIGURE_CELLS)


def test_initial_losses(values):
    import math

    assert values["expected_loss"] == pytest.approx(-math.log(1 / 27))
    assert values["loss_init_naive"] > 10  # the lecture's ~27: confidently wrong
    assert abs(values["loss_init_fix_softmax"] - values["expected_loss"]) < 0.2
    assert abs(values["loss_init_kaiming_bn"] - 3.2958) < 0.1


def test_the_tanh_fix_removes_most_saturation(values):
    assert values["tanh_before"] > 50
    assert values["tanh_after"] < 15


def test_deep_stack_statistics(values):
    stats = {(gain, bn): layers for gain, bn, layers in values["deep_stats"]}
    assert len(stats) == 6 and all(len(layers) == 5 for layers in stats.values())
    stds = [layer["std"] for layer in stats["1", False]]
    assert stds == sorted(stds, reverse=True)  # gain 1: the activations shrink layer after layer
    assert min(layer["saturated_pct"] for layer in stats["3", False]) > 20  # gain 3: saturated
    for with_bn in stats["1", True], stats["3", True]:  # BatchNorm: the gain no longer matters
        for a, b in zip(with_bn, stats["5/3", True]):
            assert a["std"] == pytest.approx(b["std"], abs=1e-3)


def test_batchnorm_lessons(values):
    assert values["loss_running"]["val"] < 3 and values["loss_calibrated"]["val"] < 3
    assert values["loss_early_calibrated"] < values["loss_early_running"]  # the running statistics lag early on
    assert values["bias_grad_max"] < 1e-5 * values["weight_grad_max"]
    assert "Expected more than 1 value per channel when training" in values["batch_of_one_error"]


def test_update_ratios_and_samples(values):
    assert values["update_ratio_steps"] == [1000, 1000]
    assert len(values["names"]) == 20 and all(isinstance(name, str) and name for name in values["names"])


def test_the_graph_of_one_example_is_shown_inline(executed, values):
    (out,) = [out for out in outputs_of(executed, "graph") if out.output_type == "execute_result"]
    svg = out.data["image/svg+xml"]
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    texts = [t.text for t in root.iter(ns + "text")]
    assert set(values["parameter_names"]) == {"0.weight", "2.weight", "3.weight", "3.bias", "5.weight", "5.bias"}
    assert set(values["parameter_names"]) <= set(texts)  # every parameter, by name
    groups = [g.get("class", "") for g in root.iter(ns + "g")]
    assert groups.count("node output") == 1 and groups.count("node param") == 6
    assert 5 <= groups.count("node op") <= 30
    assert any("Tanh" in text for text in texts) and any("BatchNorm" in text for text in texts)
    assert out.data["text/plain"].startswith("<GraphDrawing: ")


def test_tensors_display_as_in_pytorch(executed, values):
    """A cell that ends in a tensor shows its repr as text/plain, as PyTorch's does (no HTML)."""
    (batch,) = [out for out in outputs_of(executed, "batch-tensor") if out.output_type == "execute_result"]
    (logits,) = [out for out in outputs_of(executed, "logits-tensor") if out.output_type == "execute_result"]
    for out in batch, logits:
        assert set(out.data) == {"text/plain"}
    assert re.fullmatch(r"tensor\(\[\[ *\d+, +\d+, +\d+\],\n(        \[ *\d+, +\d+, +\d+\],?\n?){3}\]\)", batch.data["text/plain"])
    assert re.fullmatch(r"tensor\(\[ *-?\d+\.\d{4}(, +-?\d+\.\d{4}){5}\]\)", logits.data["text/plain"])
    torch = pytest.importorskip("torch")
    assert batch.data["text/plain"] == repr(torch.tensor(values["batch_shown"]))
    assert logits.data["text/plain"] == repr(torch.tensor(values["logits_shown"], dtype=torch.float32))
