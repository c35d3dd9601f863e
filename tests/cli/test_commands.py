"""The command line: JSON contracts, human output, and one-line refusals with exit status 2."""

import json
import subprocess
import sys

import numpy as np
import pytest

import memdyn
from memdyn.cli import main
from tests.quotes import site_text

from ..conftest import BUMP


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_loss_json_matches_the_api(capsys):
    code, out, err = run(capsys, "loss", "--rho", BUMP, "--param", "mu=10", "--a0=1,-0.5", "--w0", "1,0.3", "--json")
    assert code == 0 and err == ""
    got = json.loads(out)
    assert set(got) == {"loss", "grad_a", "grad_w"}
    ref = memdyn.evaluate(BUMP, params={"mu": 10.0}, a0=[1, -0.5], w0=[1, 0.3])
    assert got == ref


def test_flow_json_has_the_contract_fields(capsys):
    code, out, err = run(
        capsys, "flow", "--rho", BUMP, "--param", "mu=8", "--a0", "1,0", "--w0", "1,0.5", "--delta", "0.01", "--json"
    )
    assert code == 0
    got = json.loads(out)
    for key in ("tau_param", "tau_loss", "loss_initial", "loss_final", "t1", "solver", "steps", "status"):
        assert key in got
    assert got["status"] == "ok" and got["solver"] == "rodas4"
    assert 0 < got["tau_param"] < got["tau_loss"]


def test_flow_that_cannot_reach_its_event_reports_a_status(capsys):
    code, out, _ = run(
        capsys,
        "flow",
        "--rho",
        BUMP,
        "--param",
        "mu=8",
        "--a0",
        "1,0",
        "--w0",
        "1,0.5",
        "--delta",
        "0.01",
        "--t1",
        "0.01",
        "--json",
    )
    got = json.loads(out)
    assert code == 3 and got["status"] == "t1_reached" and got["tau_loss"] is None
    code, out, _ = run(
        capsys,
        "flow",
        "--rho",
        BUMP,
        "--param",
        "mu=8",
        "--a0",
        "1,0",
        "--w0",
        "1,0.5",
        "--delta",
        "0.01",
        "--max-steps",
        "3",
        "--json",
    )
    assert code == 3 and json.loads(out)["status"] == "max_steps_reached"


def test_derive_prints_stable_forms_and_the_unrolled_flow(capsys):
    code, out, _ = run(capsys, "derive", "--rho", BUMP, "--param", "mu=12", "--m", "2")
    assert code == 0
    assert "experfc" in out and "dw_2/dtau" in out
    code, out, _ = run(capsys, "derive", "--rho", "airyai(2.25*(t - 3))", "--json")
    got = json.loads(out)
    assert got["terms"][0]["method"] == "quadrature"
    code, out, _ = run(capsys, "derive", "--rho", BUMP, "--param", "mu=12", "--m", "2", "--latex")
    assert "\\operatorname{erfc}" in out and "\\dot w_{2}" in out


BAD = [
    (["loss", "--rho", "exp(-t", "--a0", "1", "--w0", "1"], "--rho: not a formula"),
    (["loss", "--rho", "__import__('os').system('touch /tmp/memdyn-pwned')", "--a0", "1", "--w0", "1"], "--rho"),
    (["loss", "--rho", "exp(-c*t)", "--a0", "1", "--w0", "1"], "unknown symbol 'c'"),
    (["loss", "--rho", "exp(-t)", "--param", "c=1", "--a0", "1", "--w0", "1"], "--param c"),
    (["loss", "--rho", "exp(-t)", "--param", "c", "--a0", "1", "--w0", "1"], "--param: expected NAME=VALUE"),
    (["loss", "--rho", "exp(t)", "--a0", "1", "--w0", "1"], "not square-integrable"),
    (["loss", "--rho", "exp(-t)", "--a0", "1,2", "--w0", "1"], "--w0: has 1 values but --a0 has 2"),
    (["loss", "--rho", "exp(-t)", "--a0", "1", "--w0", "nan"], "--w0: values must be finite"),
    (["loss", "--rho", "exp(-t)", "--a0", "1", "--w0", "abc"], "--w0: expected comma-separated numbers"),
    (["flow", "--rho", "exp(-t)", "--a0", "1", "--w0", "-1", "--delta", "0.1"], "--w0: decay rates must be positive"),
    (["flow", "--rho", "exp(-t)", "--a0", "1", "--w0", "0", "--delta", "0.1"], "--w0: decay rates must be positive"),
    (["flow", "--rho", "exp(-t)", "--a0", "1", "--w0", "1", "--delta", "inf"], "--delta: must be finite"),
    (["flow", "--rho", "exp(-t)", "--a0", "1", "--w0", "1", "--delta", "0.1", "--solver", "rk4"], "--solver"),
    (["flow", "--rho", "exp(-t)", "--a0", "1", "--w0", "1", "--delta", "-1"], "--delta"),
    (["derive", "--rho", "exp(-t)", "--m", "50"], "--m"),
    (["flow", "--rho", "exp(-t)"], "required"),
]


@pytest.mark.parametrize("argv, fragment", BAD, ids=[b[1][:30] for b in BAD])
def test_bad_input_is_one_line_exit_2(capsys, argv, fragment):
    with pytest.raises(SystemExit) as exc:
        code = main(argv)
        raise SystemExit(code)
    out, err = capsys.readouterr()
    assert exc.value.code == 2
    assert out == ""
    assert fragment in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_reproduce_refuses_a_file_as_out_and_writes_nothing(tmp_path, capsys):
    target = tmp_path / "a-file"
    target.write_text("keep")
    code, out, err = run(capsys, "reproduce", "--out", str(target))
    assert code == 2 and "--out" in err
    assert target.read_text() == "keep"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]


def test_console_script_is_installed():
    proc = subprocess.run([sys.executable, "-m", "memdyn.cli", "--version"], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.strip() == memdyn.__version__


@pytest.mark.slow
def test_reproduce_quick_writes_a_complete_report(tmp_path, capsys):
    code, out, _ = run(capsys, "reproduce", "--quick", "--out", str(tmp_path / "rep"), "--json")
    assert code == 0
    got = json.loads(out)
    assert {
        "report.md",
        "results.json",
        "escape_times.png",
        "fig2.png",
        "fig3.png",
        "spectra.png",
        "stages.png",
        "momentum.png",
    } <= set(got["files"])
    for sweep in got["summary"]["sweeps"]:
        assert all(s == "ok" for s in sweep["status"])
        for key in ("slope_tau_param", "slope_tau_loss"):
            fit = sweep[key]
            # Theorem 20: the slope of ln tau in 1/omega is at least w_min (up to the fit's uncertainty).
            assert fit["slope"] + 2 * fit["slope_stderr"] >= sweep["w_min"]
    assert not any(p.name.startswith(".partial") for p in (tmp_path / "rep").iterdir())
    assert np.isfinite(got["summary"]["timing_s"]["sweeps"])
    # the fidelity table: every row within 25% of the paper or explained
    fid = got["summary"]["fidelity"]
    assert fid["rows"] >= 20 and fid["unexplained"] == 0 and "fidelity.png" in got["files"]
    _readme_quotes_this_run(json.loads((tmp_path / "rep" / "results.json").read_text()))


def _readme_quotes_this_run(r):
    """The README's "What the main job shows" numbers are this run's (as printed, 2-3 decimals)."""

    readme = site_text()
    text = lambda f: f"{f['slope']:.3f} ± {f['slope_stderr']:.3f}"  # noqa: E731
    _theorem_20_quotes_are(r["sweeps"], readme)
    fig3 = {run["w_min"]: run for run in r["fig3"]["runs"]}
    assert f"is {text(fig3[0.9]['fit_tau_loss_omega2'])}, the paper's" in readme
    spectra = r["timescales"]["spectra"]["m=2"]
    assert f"e^{{{spectra['fit_grad']['slope']:.3f} mu}}" in readme
    assert f"mu^{spectra['fit_smallest']['q']:.0f} e^{{{spectra['fit_smallest']['slope']:.2f} mu}}" in readme
    st = r["timescales"]["stages"]
    assert f"move {st['at_tau_1']['da'] / st['at_tau_1']['dw']:.0f}x further" in readme
    from memdyn.studies.reproduce.fidelity import counts

    n = counts(r["fidelity"])
    rows = r["fidelity"]["rows"]
    untested = {
        f: sum(x["figure"].startswith(f) and x["cause_tested"] is False for x in rows) for f in ("Fig. 3", "Fig. 4")
    }
    assert n["cause_untested"] == sum(untested.values())
    assert (
        f"the quick profile's table has {n['rows']} rows, {n['within_tolerance']} within 25% and every other one "
        f"explained; {n['cause_untested']} of those explanations ({untested['Fig. 3']} of Fig. 3, {untested['Fig. 4']} "
        "of Fig. 4) only report what was measured"
    ) in " ".join(readme.split())
    assert f"reaches {max(st['stiffness']):.0e}.".replace("e+0", "e") in readme
    saddle = {k: v["exponent"] for k, v in r["momentum"]["saddle"].items()}
    assert f"`eps^{saddle['gradient flow']:.3f}`" in readme and f"`eps^{saddle['heavy ball, gamma = 0']:.3f}`" in readme
    assert f"`eps^{saddle['heavy ball, gamma = 0.5']:.2f}`" in readme
    mom = r["momentum"]["memory_problem"]
    assert (
        f"from {mom['gradient flow']['fit_tau_loss']['slope']:.2f} to "
        f"{mom['heavy ball, gamma = 0.3']['fit_tau_loss']['slope']:.2f}"
    ) in readme
    # section 7: training (Figs. 1 and 4) and the bridge
    flat = " ".join(readme.split()).replace("−", "-")
    tr = r["training"]
    one = lambda x: f"{float(f'{x:.1g}'):g}"  # noqa: E731  (one significant digit, as "~80")
    sci = lambda x: f"{x:.1e}".replace("e-0", "e-")  # noqa: E731  (as the README writes 1.8e-4)
    fig1 = tr["fig1"]
    assert f"falls smoothly to {sci(fig1['exponential sum (m* = 8)']['mean'][-1])} by epoch 40,000" in flat
    airy = fig1["Airy Ai(2.25 (t - 3))"]
    e, m = np.asarray(airy["epochs"]), np.asarray(airy["mean"])
    window = e[(m >= 0.28) & (m <= 0.30)]
    assert f"0.28-0.30 from epoch ~{one(window[0])} to ~{one(window[-1])}" in flat
    assert abs(m[e == 10000][0] - 0.15) < 0.005 and f"drops to {sci(m[-1])} by 40,000" in flat
    fig4 = tr["fig4"]["white"]
    assert f"(mean {fig4['linear + GD']['mean'][-1]:.2f} at the quick profile's" in flat
    assert f"reaches {fig4['tanh + Adam']['mean'][-1]:.3f}: momentum" in flat
    rows = tr["bridge"]["rows"]
    by_lr = [f"{x['exit_time']:.4g}" for x in rows if x["samples"] is None and x["dt"] == 0.1 and x["T"] == 16.0]
    assert f"it goes {', '.join(by_lr)} as lr" in flat
    spread = tr["bridge"]["samples"]
    for n in ("128", "1024", "4096"):
        assert f"{spread[n]['mean']:.2f} ± {spread[n]['std']:.2f} at" in flat, n


def _theorem_20_quotes_are(sweeps: dict, readme: str):
    """The site's Theorem-20 table (docs/paper.md section 1) and its step-count sentence are these sweeps'."""
    text = lambda f: f"{f['slope']:.3f} ± {f['slope_stderr']:.3f}"  # noqa: E731
    for sweep in sweeps["sweeps"]:
        f = sweep["fit"]
        row = " | ".join(
            [f"{sweep['w_min'][0]:g}"]
            + [text(f[k][form]) for form in ("plain", "omega2") for k in ("tau_param", "tau_loss")]
        )
        assert f"| {row} |" in readme, row
    first = sweeps["sweeps"][0]
    assert (
        f"count grows {first['steps'][-1] / first['steps'][0]:.1f}x while the plateau (τ′₀, 1/ω = 6 to 16) grows "
        f"{first['tau_loss'][-1] / first['tau_loss'][0]:.0f}x."
    ) in readme


def test_the_theorem_20_table_is_what_the_quick_profiles_sweeps_give():
    """The default run's version of the slow reproduce test's headline: section 1 of ``reproduce --quick``
    (two sweeps of six memories, about 15 s cold) computed afresh; every slope is at or above w_min (Theorem
    20's lower bound, up to twice the fit's standard error) and the site quotes these slopes to the digit."""
    from memdyn.core.solvers import SolverConfig
    from memdyn.studies.reproduce import sweeps
    from memdyn.studies.reproduce.profile import PROFILES

    res = json.loads(json.dumps(sweeps.compute(PROFILES["quick"], SolverConfig(), lambda message: None)))
    for sweep in res["sweeps"]:
        assert all(s == "ok" for s in sweep["status"])
        for key in ("tau_param", "tau_loss"):
            fit = sweep["fit"][key]["plain"]
            assert fit["slope"] + 2 * fit["slope_stderr"] >= sweep["w_min"][0]
    _theorem_20_quotes_are(res, site_text())


def test_sweep_ranges_expand_with_the_stop_included():
    from memdyn.core.params import parse_range

    assert parse_range("mu=8:11:0.5") == ("mu", [8.0, 8.5, 9.0, 9.5, 10.0, 10.5, 11.0])
    assert parse_range("mu=0.1:0.3:0.1") == ("mu", [0.1, 0.2, 0.3])
    name, values = parse_range("mu=geom(1,100,3)")
    assert name == "mu" and values == pytest.approx([1.0, 10.0, 100.0], rel=1e-15) and values[-1] == 100.0
    assert parse_range("mu=11:8:-1") == ("mu", [11.0, 10.0, 9.0, 8.0])


@pytest.mark.parametrize(
    "text, says",
    [
        ("mu=1:2", "expected START:STOP:STEP"),
        ("mu=3:1:1", "towards STOP"),
        ("mu=geom(0,1,3)", "START, STOP > 0"),
        ("mu=geom(1,2)", "geom(START,STOP,N)"),
    ],
)
def test_bad_sweep_ranges_are_refused(capsys, text, says):
    assert main(["sweep", "--rho", "exp(-t)", "--sweep", text, "--a0", "1", "--w0", "1", "--delta", "0.01"]) == 2
    err = capsys.readouterr().err
    assert says in err and err.count("\n") == 1
