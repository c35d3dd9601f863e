"""Discrete RNN training: the sampled loss against the Ito limit, the bridge to the
reduced flow, reproducibility, and the ``train`` command."""

import json
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from memdyn import cli
from memdyn.api import evaluate
from memdyn.rnn import bridge
from memdyn.rnn import model as rnn
from memdyn.rnn import train as rnn_train

from ..conftest import BUMP
from ..faults import fill_the_disk

MU8 = {"mu": 8.0}


def _numpy_kernel(a, w, dt, steps):
    """Impulse response of the diagonal linear Euler RNN in closed form: sum_i a_i (1 - dt w_i)^j."""
    j = np.arange(steps)
    return (np.asarray(a)[:, None] * (1.0 - dt * np.asarray(w)[:, None]) ** j).sum(axis=0)


def test_population_loss_is_the_riemann_sum_and_tends_to_J():
    """dt * sum_j (khat_j - rho_j)^2, from the recurrence, equals the closed form; it tends to J at rate dt."""
    a, w = [0.7, -0.3, 0.4], [0.9, 0.35, 2.0]
    J = evaluate(BUMP, params=MU8, a0=a, w0=w)["loss"]
    gaps = []
    for dt in (0.04, 0.02, 0.01):
        spec = rnn.RNNSpec(width=3, dt=dt, horizon=40.0, recurrence="diagonal", train_input=False)
        grid = rnn.rho_grid(BUMP, MU8, spec)
        params = rnn.diagonal_start(a, w)
        R = float(rnn.population_loss(spec, params, jnp.asarray(grid)))
        k = _numpy_kernel(a, w, dt, spec.steps)
        mu = 8.0
        rho = np.exp(-spec.times) + 0.5 * np.exp(-((spec.times - mu) ** 2) / 2)
        assert R == pytest.approx(dt * np.sum((k - rho) ** 2), rel=1e-12)
        gaps.append(abs(R - J))
    # first order in dt: halving dt halves the gap (Euler decay and the rectangle rule are both O(dt))
    assert 1.8 < gaps[0] / gaps[1] < 2.2 and 1.8 < gaps[1] / gaps[2] < 2.2
    assert gaps[2] < 2e-2 * J


def test_sampled_loss_converges_to_the_population_loss_at_rate_sqrt_2_over_n():
    """For a linear net and Gaussian inputs, y_hat - y ~ N(0, R): the sample mean of its square has
    standard deviation R sqrt(2/N). Measured over 400 independent datasets at N = 64 and 4096."""
    spec = rnn.RNNSpec(width=4, dt=0.1, horizon=6.4, recurrence="full")
    grid = jnp.asarray(rnn.rho_grid("airyai(2.25*(t - 3))", None, spec))
    params = rnn.init_params(spec, jax.random.PRNGKey(3))
    R = float(rnn.population_loss(spec, params, grid))

    def sampled(key, n):
        x = rnn.white_noise(key, n, spec)
        return rnn.sampled_loss(spec, params, x, rnn.targets(spec, grid, x))

    reps = 400
    keys = jnp.stack([jax.random.PRNGKey(1000 + r) for r in range(reps)])
    for n in (64, 4096):
        errs = np.asarray(jax.lax.map(lambda k: sampled(k, n), keys)) - R
        rms, predicted = np.sqrt(np.mean(errs**2)), R * math.sqrt(2.0 / n)
        # the RMS of 400 draws is within ~3.5% (1 sd) of its expectation; allow 4 sd plus the
        # excess kurtosis of chi-square at small N
        assert rms == pytest.approx(predicted, rel=0.15), (n, rms, predicted)
        assert abs(errs.mean()) < 4 * predicted / math.sqrt(reps)  # unbiased


def test_training_is_reproducible_from_a_seed():
    spec = rnn.RNNSpec(width=4, dt=0.1, horizon=3.2, activation="tanh")
    grid = rnn.rho_grid("exp(-t)*cos(2*t)", None, spec)
    cfg = rnn_train.TrainConfig(optimizer="sgd", lr=0.05, epochs=30, samples=64, batch=16, seed=5)
    one = rnn_train.train(spec, grid, cfg, seeds=2)
    two = rnn_train.train(spec, grid, cfg, seeds=2)
    other = rnn_train.train(spec, grid, rnn_train.TrainConfig(**{**cfg.__dict__, "seed": 6}), seeds=2)
    np.testing.assert_array_equal(one.loss, two.loss)
    assert one.loss[1, 0] != one.loss[0, 0]  # seeds differ from each other
    np.testing.assert_array_equal(other.loss[0], one.loss[1])  # seed 6 is seed 6 wherever it runs
    assert one.loss[0, -1] < one.loss[0, 0]  # and training trains


def test_adam_and_chunking_do_not_change_the_result():
    spec = rnn.RNNSpec(width=3, dt=0.1, horizon=3.2)
    grid = rnn.rho_grid("exp(-t)", None, spec)
    base = dict(optimizer="adam", lr=1e-2, epochs=45, samples=32)
    a = rnn_train.train(spec, grid, rnn_train.TrainConfig(**base, chunk=45))
    b = rnn_train.train(spec, grid, rnn_train.TrainConfig(**base, chunk=10))  # five chunks, the last one padded
    np.testing.assert_allclose(a.loss, b.loss, rtol=1e-12)
    assert a.loss.shape == (1, 46)


def test_a_training_stopped_and_resumed_from_its_checkpoint_is_bit_identical(tmp_path):
    """Adam (state beyond the weights) on minibatches (an order drawn per epoch) over 2 seeds in chunks of 10, the last one padded: stopped after its second
    chunk, then run again with the same checkpoint, it ends exactly as a run never stopped; the file is gone at the
    end, and a checkpoint of another run (another lr) is not resumed."""
    spec = rnn.RNNSpec(width=3, dt=0.1, horizon=3.2, activation="tanh")
    grid = rnn.rho_grid("exp(-t)", None, spec)
    cfg = rnn_train.TrainConfig(optimizer="adam", lr=1e-2, epochs=45, samples=32, batch=16, chunk=10)
    whole = rnn_train.train(spec, grid, cfg, seeds=2)
    ckpt = tmp_path / "run.ckpt.npz"
    chunks = []

    def stop_after_two(n):
        chunks.append(n)
        if len(chunks) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        rnn_train.train(spec, grid, cfg, seeds=2, progress=stop_after_two, checkpoint=ckpt)
    with np.load(ckpt) as saved:
        assert saved["losses"].shape == (20, 2)
    moved = []
    resumed = rnn_train.train(spec, grid, cfg, seeds=2, progress=moved.append, checkpoint=ckpt)
    assert moved == [20, 10, 10, 5]  # the saved 20 epochs at once, then the rest chunk by chunk
    np.testing.assert_array_equal(resumed.loss, whole.loss)
    jax.tree_util.tree_map(np.testing.assert_array_equal, resumed.params, whole.params)
    assert not ckpt.exists()

    with pytest.raises(KeyboardInterrupt):
        rnn_train.train(
            spec, grid, cfg, seeds=2, progress=lambda n: (_ for _ in ()).throw(KeyboardInterrupt), checkpoint=ckpt
        )
    other = rnn_train.TrainConfig(**{**cfg.__dict__, "lr": 2e-2})
    moved = []
    fresh = rnn_train.train(spec, grid, other, seeds=2, progress=moved.append, checkpoint=ckpt)
    assert moved == [10, 10, 10, 10, 5]
    np.testing.assert_array_equal(fresh.loss, rnn_train.train(spec, grid, other, seeds=2).loss)


def test_gradient_descent_exit_matches_the_reduced_flow_as_lr_and_dt_go_to_zero():
    """Diagonal linear RNN, U = 1, exact white-noise loss, started on M* like the flow.

    The exit time tends to the flow's tau_loss, and the gap is first order in each step: GD is forward
    Euler on its own (discretised-in-time) flow, so at fixed dt the gap is g(lr) = g0(dt) + s lr + O(lr^2);
    the discretisation in time (Euler decay (1 - dt w)^j against e^{-w j dt}, rectangle rule) makes
    g0(dt) = c dt + O(dt^2). Halving a step must therefore halve the gap's part from that step: the
    Richardson ratios below are 2 up to the next order (measured 1.99 in lr, 2.01-2.02 in dt). Exits are
    interpolated between epochs (``exit_time_interpolated``); whole epochs would add up to lr of rounding.
    """
    lrs, dts = (0.02, 0.01, 0.005), (0.04, 0.02, 0.01)
    out = bridge.compare(
        BUMP,
        MU8,
        [1.0, 0.0],
        [1.0, 0.5],
        0.01,
        [bridge.BridgeSetting(lr=lr, dt=dt, horizon=16.0) for dt in dts for lr in lrs],
    )
    tau = out["tau_loss"]
    gap = {(r["dt"], r["lr"]): r["exit_time_interpolated"] - tau for r in out["rows"]}
    slopes, g0 = [], {}
    for dt in dts:
        d1, d2 = gap[(dt, 0.02)] - gap[(dt, 0.01)], gap[(dt, 0.01)] - gap[(dt, 0.005)]
        assert d1 / d2 == pytest.approx(2.0, abs=0.05), dt  # first order in lr
        slopes.append(d1 / 0.01)
        g0[dt] = 2 * gap[(dt, 0.005)] - gap[(dt, 0.01)]  # Richardson: the lr -> 0 gap at this dt
    assert max(slopes) / min(slopes) < 1.05  # the lr coefficient s hardly depends on dt (0.83-0.85)
    assert g0[0.04] / g0[0.02] == pytest.approx(2.0, abs=0.05)  # first order in dt
    assert g0[0.02] / g0[0.01] == pytest.approx(2.0, abs=0.05)
    assert abs(gap[(0.01, 0.005)]) / tau < 0.02


def test_cli_train_json_and_errors(capsys):
    code = cli.main(
        [
            "train",
            "--rho",
            BUMP,
            "--param",
            "mu=4",
            "--a0",
            "1,0",
            "--w0",
            "1,0.5",
            "--dt",
            "0.05",
            "--horizon",
            "8",
            "--samples",
            "inf",
            "--lr",
            "0.02",
            "--epochs",
            "300",
            "--delta",
            "0.01",
            "--json",
        ]
    )
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert set(out) >= {"epochs", "loss", "exit_epoch", "exit_time", "loss_initial", "loss_final"}
    assert out["epochs"][0] == 0 and out["epochs"][-1] == 300 and len(out["epochs"]) == len(out["loss"])
    assert out["exit_epoch"] is not None and out["exit_time"] == pytest.approx(out["exit_epoch"] * 0.02)
    L = np.array(out["loss"])
    assert L[-1] < L[0] - 0.01
    for argv, arg in (
        (["--activation", "relu"], "--activation"),
        (["--samples", "many"], "--samples"),
        (["--horizon", "6.45"], "--horizon"),
        (["--optimizer", "sgd", "--samples", "inf"], "--optimizer"),
        (["--activation", "tanh", "--samples", "inf"], "--samples"),
        (["--a0", "1"], "--w0"),
        (["--inputs", "cosine", "--modes", "0"], "--modes"),
        (["--input-scale", "-1"], "--input-scale"),
    ):
        code = cli.main(["train", "--rho", "exp(-t)", "--epochs", "2", *argv])
        err = capsys.readouterr().err
        assert code == 2 and arg in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_cli_train_tanh_adam_on_random_cosines_over_seeds(capsys):
    code = cli.main(
        [
            "train",
            "--rho",
            "exp(-t)*cos(t)",
            "--width",
            "4",
            "--horizon",
            "3.2",
            "--activation",
            "tanh",
            "--optimizer",
            "adam",
            "--lr",
            "0.01",
            "--inputs",
            "cosine",
            "--samples",
            "32",
            "--epochs",
            "60",
            "--seeds",
            "2",
            "--json",
        ]
    )
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["seeds"] == [0, 1] and out["train"]["inputs"] == "cosine"
    seeds = np.array(out["loss_seeds"])
    assert seeds.shape == (2, len(out["epochs"])) and np.all(seeds[:, -1] < seeds[:, 0])
    np.testing.assert_allclose(out["loss"], seeds.mean(axis=0), rtol=1e-12)


def test_plateau_escape_reads_a_curve_as_a_log_log_plot_does():
    """A drop in O(1) epochs onto a plateau at 0.3, left at epoch 1000 for 0.01: the plateau is the longest
    stretch where the curve changes by under 5% per doubling (so its level, read where it starts, is within
    5% of 0.3), the escape where the loss falls below half that level; recorded points give the same."""
    from memdyn.rnn.train import plateau_escape

    n = np.arange(20001)
    loss = 0.01 + 0.29 / (1 + np.exp((n - 1000) / 50)) + np.exp(-n / 3)
    level, escape = plateau_escape(loss)
    assert 0.3 < level < 0.3 * 1.05 + 1e-3  # not the later shoulder at 0.01 (1.3k-20k: a shorter flat stretch)
    # the sigmoid crosses level / 2 at x (the initial drop is below 1e-140 there): the first epoch past it
    x = 1000 + 50 * np.log(0.29 / (level / 2 - 0.01) - 1)
    assert escape == math.floor(x) + 1 and 995 < escape < 1010
    recorded = np.unique(np.geomspace(1, 20000, 400).astype(int))
    level_r, escape_r = plateau_escape(loss[recorded], recorded)
    assert level_r == pytest.approx(level, rel=0.02) and abs(escape_r - escape) <= 30  # the recorded grid's spacing
    assert plateau_escape(np.full(2000, 0.3))[1] is None  # a plateau never left
    assert plateau_escape(np.where(n < 500, loss, np.nan)) == (None, None)  # a diverged run


@pytest.mark.parametrize("modes", [1, 3])
def test_cosine_inputs_output_power_grows_like_the_mode_count(modes):
    """E y^2 on J-mode cosines is J times one mode's (the alphas are independent, zero-mean, unit-variance),
    and one mode's is (1/10) int_0^10 (dt sum_j rho_j cos(lambda t_{K-1-j}))^2 d lambda (scipy quadrature);
    the mean over 200,000 drawn inputs is within 4 of its own standard errors (1.2% of it at J = 1)."""
    from scipy.integrate import quad

    spec = rnn.RNNSpec(width=2, dt=0.1, horizon=6.4)
    grid = rnn.rho_grid("exp(-t/2)", {}, spec)
    lags = spec.dt * (spec.steps - 1 - np.arange(spec.steps))

    def one_mode(lam):
        return (spec.dt * np.sum(grid * np.cos(lam * lags))) ** 2

    exact = modes * quad(one_mode, 0.0, 10.0, limit=400, epsabs=0, epsrel=1e-10)[0] / 10.0
    x = rnn.random_cosines(jax.random.PRNGKey(3), 200_000, spec, modes=modes)
    power = np.asarray(rnn.targets(spec, jnp.asarray(grid), x)) ** 2
    se = power.std() / np.sqrt(power.size)
    assert abs(power.mean() - exact) < 4 * se < 0.06 * exact
    with pytest.raises(rnn_train.InputError, match="modes"):
        rnn_train.TrainConfig(inputs="cosine", modes=0)


@pytest.mark.parametrize("activation", ["linear", "tanh"])
def test_input_scale_is_the_input_weights_scaled(activation):
    """Reading s * x is U -> s U (exact, both activations; the population loss too), while the target keeps x."""
    s = 0.1
    spec = rnn.RNNSpec(width=4, dt=0.1, horizon=3.2, activation=activation, noise="unit")
    scaled = rnn.RNNSpec(width=4, dt=0.1, horizon=3.2, activation=activation, noise="unit", input_scale=s)
    params = rnn.init_params(spec, jax.random.PRNGKey(1))
    moved = {**params, "U": s * params["U"]}
    x = rnn.white_noise(jax.random.PRNGKey(2), 16, spec)
    grid = jnp.asarray(rnn.rho_grid("exp(-t)", {}, spec))
    y = rnn.targets(scaled, grid, x)
    np.testing.assert_allclose(y, rnn.targets(spec, grid, x), rtol=0)
    np.testing.assert_allclose(rnn.sampled_loss(scaled, params, x, y), rnn.sampled_loss(spec, moved, x, y), rtol=1e-13)
    if activation == "linear":
        np.testing.assert_allclose(
            rnn.population_loss(scaled, params, grid), rnn.population_loss(spec, moved, grid), rtol=1e-13
        )
    with pytest.raises(rnn_train.InputError, match="input-scale"):
        rnn.RNNSpec(input_scale=0.0)


def test_the_relu_orthogonal_start_is_the_follow_up_repositorys():
    """init="relu-orthogonal": W = -P diag(relu(z)) P^T is symmetric with eigenvalues -relu(z) <= 0, so the zero
    rates are z's negative entries (about half of 64: a binomial count within 4 sd); U in [-1, 1] and c in
    [-1/8, 1/8] (PyTorch's nn.Linear bounds 1/sqrt(fan_in)), their ranges filled. A bad name, or the start with a
    diagonal W, is refused by name."""
    m = 64
    spec = rnn.RNNSpec(width=m, init="relu-orthogonal")
    p = rnn.init_params(spec, jax.random.PRNGKey(5))
    W = np.asarray(p["W"])
    np.testing.assert_allclose(W, W.T, atol=1e-15)
    rates = np.linalg.eigvalsh(-W)
    assert rates.min() > -1e-12
    zeros = int(np.sum(rates < 1e-12))
    assert abs(zeros - m / 2) < 4 * math.sqrt(m / 4)
    # the positive rates are |N(0, 1)| draws: their mean is sqrt(2/pi) within 4 standard errors
    positive = rates[rates >= 1e-12]
    assert abs(positive.mean() - math.sqrt(2 / math.pi)) < 4 * math.sqrt(1 - 2 / math.pi) / math.sqrt(positive.size)
    U, c = np.asarray(p["U"]), np.asarray(p["c"])
    assert np.abs(U).max() <= 1 and np.abs(U).max() > 0.9
    assert np.abs(c).max() <= 1 / 8 and np.abs(c).max() > 0.9 / 8
    with pytest.raises(rnn_train.InputError, match="init"):
        rnn.RNNSpec(init="xavier")
    with pytest.raises(rnn_train.InputError, match="init.*diagonal"):
        rnn.RNNSpec(init="relu-orthogonal", recurrence="diagonal")


def test_a_full_disk_keeps_the_last_checkpoint_and_a_truncated_one_starts_afresh(tmp_path, monkeypatch):
    """ENOSPC while a checkpoint is written: the previous checkpoint stays whole (the write goes to a
    temporary file first) and the error is the file system's; a checkpoint cut short is not resumed."""

    spec = rnn.RNNSpec(width=2, dt=0.1, horizon=1.6)
    grid = rnn.rho_grid("exp(-t)", None, spec)
    cfg = rnn_train.TrainConfig(optimizer="gd", lr=1e-2, epochs=30, samples=8, chunk=10)
    ckpt = tmp_path / "run.ckpt.npz"
    real = fill_the_disk(monkeypatch, np, "savez", when=lambda call, *args: call == 2)  # the second checkpoint
    with pytest.raises(OSError, match="No space left"):
        rnn_train.train(spec, grid, cfg, checkpoint=ckpt)
    monkeypatch.setattr(np, "savez", real)
    with np.load(ckpt) as saved:  # the first chunk's checkpoint, whole
        assert saved["losses"].shape == (10, 1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.ckpt.npz"]
    ckpt.write_bytes(ckpt.read_bytes()[:200])
    moved = []
    again = rnn_train.train(spec, grid, cfg, progress=moved.append, checkpoint=ckpt)
    assert moved == [10, 10, 10]  # started afresh
    np.testing.assert_array_equal(again.loss, rnn_train.train(spec, grid, cfg).loss)


def test_a_full_disk_while_the_table_is_written_leaves_no_half_table(tmp_path, monkeypatch, capsys):
    """ENOSPC while results.csv is written: exit 74 in one line, neither results.json nor results.csv appears
    (both or neither), the chunks stay for the rerun."""
    from pathlib import Path

    from memdyn.cli import main

    argv = [
        "sweep",
        "--rho",
        BUMP,
        "--sweep",
        "mu=6,7",
        "--a0",
        "1,0",
        "--w0",
        "1,0.5",
        "--delta",
        "0.01",
        "--out",
        str(tmp_path / "run"),
    ]
    fill_the_disk(monkeypatch, Path, "write_text", when=lambda call, path, *args: path.name == "results.csv")
    assert main(argv) == 74
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "No space left on device" in err[0]
    names = sorted(p.name for p in (tmp_path / "run").iterdir())
    assert "results.json" not in names and "results.csv" not in names and "chunk-000000.npz" in names
