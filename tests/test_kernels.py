"""The C++ kernels refuse inputs they would read or write out of bounds (a RuntimeError naming the argument), and
the package says which cfconv path runs: ``xatom info`` and the first line of a training run."""
import os
import subprocess
import sys

import pytest
import torch

from physics import SMALL_SCHNET
from xatom.cli import main
from xatom.models import kernels
from xatom.models.cfconv import PairIndex, cfconv_path
from xatom.training import TrainingConfig, train

needs_kernels = pytest.mark.skipif(not kernels.available(), reason="the C++ kernels could not be built")

F, G, N_ATOMS = 4, 6, 3


def _cfconv_inputs():
    """Three atoms, four pairs sorted by receiver (each atom receives from the others), a 6-row filter table."""
    g = torch.Generator().manual_seed(0)
    recv, send = torch.tensor([0, 0, 1, 2]), torch.tensor([1, 2, 0, 1])
    index = PairIndex(recv, send, N_ATOMS, N_ATOMS)
    return {"h": torch.randn(N_ATOMS, F, generator=g), "table": torch.randn(G, F, generator=g),
            "k": torch.tensor([0, 1, 4, 2]), "frac": torch.rand(4, generator=g), "send": send,
            "recv_ptr": index.recv_ptr}, index


def _forward(**changes):
    args, _ = _cfconv_inputs()
    args.update(changes)
    return kernels.kernels().cfconv_forward(args["h"], args["table"], args["k"], args["frac"], args["send"],
                                            args["recv_ptr"])


def _backward(**changes):
    args, ix = _cfconv_inputs()
    args.update(grad_out=torch.ones(N_ATOMS, F), recv=ix.idx_recv, send_perm=ix.send_perm, send_ptr=ix.send_ptr)
    args.update(changes)
    return kernels.kernels().cfconv_backward(args["grad_out"], args["h"], args["table"], args["k"], args["frac"],
                                             args["send"], args["recv"], args["recv_ptr"], args["send_perm"],
                                             args["send_ptr"], True)


@needs_kernels
def test_valid_inputs_pass():
    args, _ = _cfconv_inputs()
    out = _forward()
    assert out.shape == (N_ATOMS, F) and torch.isfinite(out).all()
    # atom 2 receives only from atom 1 (pair 3, table row 2): out = h[1] * lerp(T[2], T[3], frac)
    expected = args["h"][1] * torch.lerp(args["table"][2], args["table"][3], args["frac"][3])
    torch.testing.assert_close(out[2], expected)
    assert [t.shape for t in _backward()] == [(N_ATOMS, F), (G, F), (4,)]


@needs_kernels
@pytest.mark.parametrize("changes, message", [
    ({"h": torch.zeros(N_ATOMS, F, dtype=torch.float64)}, r"h must be Float, got Double"),
    ({"h": torch.zeros(N_ATOMS * F)}, r"h must have 2 dimension\(s\), got shape \[12\]"),
    ({"h": torch.zeros(F, N_ATOMS).t()}, r"h must be contiguous"),
    ({"table": torch.zeros(G, F + 1)}, r"table must have 4 filters \(as h\) along dimension 1, got shape \[6, 5\]"),
    ({"table": torch.zeros(1, F)}, r"table needs at least 2 grid rows"),
    ({"k": torch.tensor([0, 1, 4, 2], dtype=torch.int32)}, r"k must be Long, got Int"),
    ({"k": torch.tensor([0, 1, 5, 2])}, r"k\[2\] = 5 lies outside \[0, 5\)"),  # row k + 1 = 6 does not exist
    ({"k": torch.tensor([0, -1, 4, 2])}, r"k\[1\] = -1 lies outside"),
    ({"frac": torch.rand(3)}, r"frac must have 4 pairs \(as k\)"),
    ({"send": torch.tensor([1, 2, 0, 3])}, r"send\[3\] = 3 lies outside \[0, 3\)"),
    ({"recv_ptr": torch.tensor([1, 2, 3, 4])}, r"recv_ptr must start at 0, got 1"),
    ({"recv_ptr": torch.tensor([0, 3, 2, 4])}, r"recv_ptr must not decrease, but recv_ptr\[1\] = 3 > recv_ptr\[2\]"),
    ({"recv_ptr": torch.tensor([0, 2, 3, 9])}, r"recv_ptr must end at the number of pairs, 4, got 9"),
])
def test_cfconv_forward_refuses_bad_inputs(changes, message):
    with pytest.raises(RuntimeError, match="cfconv_forward: " + message):
        _forward(**changes)


@needs_kernels
@pytest.mark.parametrize("changes, message", [
    ({"k": torch.tensor([0, 1, 7, 2])}, r"k\[2\] = 7 lies outside"),  # the forward's checks hold here too
    ({"grad_out": torch.ones(N_ATOMS + 1, F)}, r"grad_out must have 3 rows"),
    ({"grad_out": torch.ones(N_ATOMS, F, dtype=torch.float16)}, r"grad_out must be Float, got Half"),
    ({"recv": torch.tensor([0, 0, 1])}, r"recv must have 4 pairs"),
    ({"recv": torch.tensor([0, 1, 1, 2])}, r"recv\[1\] = 1 but recv_ptr puts pair 1 in row 0"),
    ({"send_perm": torch.tensor([2, 0, 3, 4])}, r"send_perm\[3\] = 4 lies outside \[0, 4\)"),
    ({"send_perm": torch.tensor([0, 2, 3, 1])}, r"send\[send_perm\[0\]\] = 1 but send_ptr puts it in row 0"),
    ({"send_ptr": torch.tensor([0, 1, 3])}, r"send_ptr must have 4 entries \(senders \+ 1, as h\)"),
    ({"send_ptr": torch.tensor([0, 1, 3, 5])}, r"send_ptr must end at the number of pairs, 4, got 5"),
])
def test_cfconv_backward_refuses_bad_inputs(changes, message):
    with pytest.raises(RuntimeError, match="cfconv_backward: " + message):
        _backward(**changes)


def _acsf(**changes):
    """Water-like three atoms, every ordered pair within the cutoffs, two elements (O = 0, H = 1)."""
    args = {"R": torch.tensor([[0.0, 0.0, 0.0], [0.96, 0.0, 0.0], [-0.24, 0.93, 0.0]]),
            "species": torch.tensor([0, 1, 1]), "idx_j": torch.tensor([1, 2, 0, 2, 0, 1]),
            "recv_ptr": torch.tensor([0, 2, 4, 6]), "rc_rad": 5.0, "rc_ang": 4.0,
            "pair_index": torch.tensor([[0, 1], [1, 2]]), "n_elements": 2}
    args.update(changes)
    c = torch.tensor([1.0, 2.0])
    return kernels.kernels().acsf_forward(args["R"], args["species"], args["idx_j"], args["recv_ptr"], args["rc_rad"],
                                          c, 1.0, args["rc_ang"], c, 1.0, torch.tensor([1.0]),
                                          torch.tensor([1.0, -1.0]), args["pair_index"], args["n_elements"])


@needs_kernels
def test_acsf_forward_accepts_valid_inputs():
    out = _acsf()
    # 2 elements x 2 radial centres + 3 element pairs x (1 zeta x 2 lambdas x 2 centres)
    assert out.shape == (3, 2 * 2 + 3 * 4) and bool((out[:, :4] > 0).any())


@needs_kernels
@pytest.mark.parametrize("changes, message", [
    ({"R": torch.zeros(3, 2)}, r"R must have 3 coordinates along dimension 1, got shape \[3, 2\]"),
    ({"R": torch.zeros(3, 3, dtype=torch.float64)}, r"R must be Float, got Double"),
    ({"species": torch.tensor([0, 1, 2])}, r"species\[2\] = 2 lies outside \[0, 2\)"),
    ({"species": torch.tensor([0, 1])}, r"species must have 3 atoms \(as R\)"),
    ({"idx_j": torch.tensor([1, 2, 0, 2, 0, 3])}, r"idx_j\[5\] = 3 lies outside \[0, 3\)"),
    ({"recv_ptr": torch.tensor([0, 2, 6])}, r"recv_ptr must have 4 entries \(atoms \+ 1, as R\)"),
    ({"pair_index": torch.tensor([[0, 1], [1, 3]])}, r"pair_index\[3\] = 3 lies outside \[0, 3\)"),
    ({"n_elements": 0}, r"n_elements must be at least 1, got 0"),
    ({"rc_rad": 0.0}, r"cutoffs must be positive, got 0 and 4"),
])
def test_acsf_forward_refuses_bad_inputs(changes, message):
    with pytest.raises(RuntimeError, match="acsf_forward: " + message):
        _acsf(**changes)


# ------------------------------------------------------------------------------------------ which path runs
@needs_kernels
def test_cfconv_path_names_the_implementation(monkeypatch):
    assert cfconv_path("cpu") == "fused C++ kernel"
    assert cfconv_path("cpu", torch.float64) == "plain torch (the fused kernel is for CPU float32, not cpu float64)"
    assert cfconv_path("cuda") == "plain torch (the fused kernel is for CPU float32, not cuda float32)"
    monkeypatch.setattr(kernels, "_MODULE", None)  # as after a failed build
    monkeypatch.setattr(kernels, "_UNAVAILABLE", "they could not be built (OSError: no compiler)")
    assert cfconv_path("cpu") == "plain torch (the C++ kernels are unavailable: they could not be built (OSError: " \
                                 "no compiler))"


def _info(**env):
    out = subprocess.run([sys.executable, "-m", "xatom.cli", "info", "--threads", "1"], capture_output=True, text=True,
                         env={**os.environ, **env}, check=True).stdout
    return {line[:24].strip(): line[24:].strip() for line in out.splitlines()}


def test_info_reports_versions_threads_cpu_capability_and_the_cfconv_path(capsys):
    main(["info", "--threads", "1"])
    lines = capsys.readouterr().out.splitlines()
    info = {line[:24].strip(): line[24:].strip() for line in lines}
    assert info["torch"] == torch.__version__ and info["torch threads"].startswith("1 intra-op")
    assert info["CPU capability"] == torch.backends.cpu.get_cpu_capability()
    assert info["cfconv (SchNet) on cpu"] == cfconv_path("cpu")
    # in a fresh process, under another kernel dispatch and without the C++ kernels
    other = _info(ATEN_CPU_CAPABILITY="default", XATOM_NO_KERNEL="1")
    assert other["CPU capability"] == "DEFAULT (ATEN_CPU_CAPABILITY=default)"
    assert other["C++ kernels"] == "unavailable: XATOM_NO_KERNEL=1 is set"
    assert other["cfconv (SchNet) on cpu"] == "plain torch (the C++ kernels are unavailable: XATOM_NO_KERNEL=1 is set)"


def test_training_logs_its_cfconv_path_once_at_the_start(qm9, tmp_path, capfd):
    cfg = TrainingConfig(n_train=20, batch_size=10, max_epochs=1, seed=0, architecture=dict(SMALL_SCHNET))
    train(tmp_path / "run", cfg, data=qm9, max_steps=1, progress=False)
    lines = [line for line in capfd.readouterr().err.splitlines() if line.startswith("xatom train")]
    assert lines == [f"xatom train {tmp_path / 'run'}: cfconv: {cfconv_path('cpu')}; {torch.get_num_threads()} "
                     f"torch thread(s), CPU capability {torch.backends.cpu.get_cpu_capability()}"]
