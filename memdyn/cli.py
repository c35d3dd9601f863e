"""``memdyn``: the command line (a thin layer over :mod:`memdyn.api`).

Every command that computes takes ``--json`` and then prints exactly one JSON object on stdout.
Bad input ends with a one-line message naming the argument, exit status 2, and nothing written.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from .errors import InputError

EXAMPLE_RHO = "exp(-t) + 0.5*exp(-(t - mu)**2/2)"


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2 (argparse prints usage + message otherwise)
        self.exit(2, f"memdyn: error: {message} (see '{self.prog} --help')\n")


def _floats(argument: str):
    def parse(text: str) -> list[float]:
        try:
            values = [float(x) for x in text.split(",") if x.strip() != ""]
        except ValueError:
            raise argparse.ArgumentTypeError(f"{argument}: expected comma-separated numbers, got {text!r}") from None
        if not values:
            raise argparse.ArgumentTypeError(f"{argument}: no numbers given")
        for v in values:
            if not math.isfinite(v):
                raise argparse.ArgumentTypeError(f"{argument}: values must be finite, got {v}")
        return values

    return parse


def _number(argument: str):
    def parse(text: str) -> float:
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{argument}: expected a number, got {text!r}") from None
        if not math.isfinite(v):
            raise argparse.ArgumentTypeError(f"{argument}: must be finite, got {text!r}")
        return v

    return parse


def _add_target(p):
    p.add_argument("--rho", required=True, metavar="EXPR",
                   help=f"target kernel rho(t) as a formula in t, e.g. \"{EXAMPLE_RHO}\"; functions: "
                        "exp log sqrt sin cos tan sinh cosh tanh atan erf erfc gamma airyai besselj "
                        "heaviside abs; constants pi, E; ^ or ** for powers")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="value of a parameter of the formula (repeat for several)")


def _add_json(p):
    p.add_argument("--json", action="store_true", help="print exactly one JSON object on stdout")


def _add_flow_options(p, *, t1: float):
    from .integrate import SOLVERS, SolverConfig

    d = SolverConfig()
    p.add_argument("--delta", required=True, type=_number("--delta"), help="hitting-time threshold (> 0)")
    p.add_argument("--t1", type=_number("--t1"), default=t1, help=f"horizon in training time, up to 1e15 (default {t1:g})")
    p.add_argument("--solver", default=d.solver, help=f"one of {', '.join(SOLVERS)} (default {d.solver})")
    p.add_argument("--rtol", type=_number("--rtol"), default=d.rtol, help=f"relative tolerance (default {d.rtol:g})")
    p.add_argument("--atol", type=_number("--atol"), default=d.atol, help=f"absolute tolerance (default {d.atol:g})")
    p.add_argument("--max-steps", type=int, default=d.max_steps, help=f"step budget per solve (default {d.max_steps})")
    from .reparam import DESCRIPTIONS

    p.add_argument("--param-map", default="plain", metavar="NAME",
                   help="train v with w = g(v): " + "; ".join(f"{k}: {v}" for k, v in DESCRIPTIONS.items())
                        + " (default plain). Starts stay decay rates; tau_param is measured in (a, v)")


def _config(args):
    from .integrate import SolverConfig

    return SolverConfig(solver=args.solver, rtol=args.rtol, atol=args.atol, max_steps=args.max_steps)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="memdyn", description="The curse of memory in linear RNNs: symbolic gradient flows, "
                     "integrated with Diffrax, measured against the theory (Li, Han, E & Li 2021/2022).")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    p = sub.add_parser("loss", help="loss J(a, w) and its gradient for rho_hat = sum a_i exp(-w_i t)",
                       description="Loss J = int (sum_i a_i e^{-w_i t} - rho(t))^2 dt and its gradient.")
    _add_target(p)
    p.add_argument("--a", required=True, type=_floats("--a"), metavar="A1,A2,..",
                   help="amplitudes (use --a=-1,2 for a leading minus)")
    p.add_argument("--w", required=True, type=_floats("--w"), metavar="W1,W2,..", help="decay rates (> 0)")
    p.add_argument("--hessian", action="store_true", help="also print the 2m x 2m Hessian")
    _add_json(p)

    p = sub.add_parser("flow", help="integrate the gradient flow and report both hitting times (JMLR Thm 20)",
                       description="tau_param = first tau with ||theta - theta0|| > delta; tau_loss = first tau "
                                   "with |J - J0| > delta; null when not reached by t1.")
    _add_target(p)
    p.add_argument("--a0", required=True, type=_floats("--a0"), metavar="A1,A2,..", help="initial amplitudes")
    p.add_argument("--w0", required=True, type=_floats("--w0"), metavar="W1,W2,..", help="initial decay rates (> 0)")
    _add_flow_options(p, t1=1e8)
    _add_json(p)

    p = sub.add_parser("sweep", help="hitting times over a list of parameter values (and starts), batched",
                       description="The flow of 'memdyn flow' over --sweep NAME=V1,V2,.. (x several starts), solved "
                                   "as one compiled, vmapped call; fits ln tau against the memory 1/omega "
                                   "(NAME itself, or 1/NAME for a parameter named omega) beside Theorem 20's slope w_min.")
    _add_target(p)
    p.add_argument("--sweep", required=True, metavar="NAME=V1,V2,..", help="the swept parameter and its values")
    p.add_argument("--init", choices=("explicit", "mstar", "random"), default="explicit",
                   help="explicit: --a0/--w0; mstar: a point of the invariant set M* built from the formula's "
                        "exponential terms (--m, --null-rates, --groups); random: the JMLR bounded start "
                        "(--m, --seeds, --w-range, --a-range, --beta). Default explicit")
    p.add_argument("--a0", type=_floats("--a0"), metavar="A1,A2,..", help="initial amplitudes (explicit)")
    p.add_argument("--w0", type=_floats("--w0"), metavar="W1,W2,..", help="initial decay rates (explicit)")
    p.add_argument("--m", type=int, help="width (mstar, random)")
    p.add_argument("--null-rates", type=_floats("--null-rates"), default=[], metavar="R1,..",
                   help="decay rates of the null neurons (mstar)")
    p.add_argument("--groups", type=_floats("--groups"), default=None, metavar="K1,..",
                   help="neurons per exponential term (mstar; default 1 each)")
    p.add_argument("--seeds", type=int, default=1, help="number of random starts (random; default 1)")
    p.add_argument("--w-range", type=_floats("--w-range"), default=[0.5, 2.0], metavar="WL,WR",
                   help="w0 ~ U[WL, WR] (random; default 0.5,2)")
    p.add_argument("--a-range", type=_floats("--a-range"), default=[-1.0, 1.0], metavar="AL,AR",
                   help="a0' ~ U[AL, AR] (random; default -1,1)")
    p.add_argument("--beta", type=float, default=1.0, help="a0 = a0' m^-beta (random; default 1)")
    _add_flow_options(p, t1=1e12)
    p.add_argument("--chunk", type=int, default=None,
                   help="elements per compiled call, for progress on long sweeps (default: all, or 64 above 64)")
    _add_json(p)

    p = sub.add_parser("bench", help="solver benchmarks: work-precision, cost against plateau length, throughput",
                       description="Diffrax solvers against SciPy (NumPy lowering, analytic Jacobian) and plain gradient "
                                   "descent on exp(-t) + 0.5 exp(-(t-mu)^2/2) started on M*: work-precision, cost as the "
                                   "plateau grows, batched throughput, compile times (see memdyn/bench.py).")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--quick", dest="profile", action="store_const", const="quick", help="default: a few minutes")
    g.add_argument("--full", dest="profile", action="store_const", const="full",
                   help="more tolerances, batches up to 65536")
    p.set_defaults(profile="quick")
    p.add_argument("--out", default=None, help="also write bench.md, bench.json and work_precision.png here")
    _add_json(p)

    p = sub.add_parser("approx", help="best L2 fits by width-m exponential sums, their L1/L2 errors, Jackson networks",
                       description="For each width m: the best L2 fit of rho by sum_i a_i exp(-w_i t) (several starts, "
                                   "warm-started from width m-1, non-increasing in m; a fit that did not improve is "
                                   "flagged), its L2 and L1 errors (L1 = sup_t ||H_t - H_hat_t||), and with --beta the "
                                   "constructive network of JMLR Thm 10 with its error and bound.")
    _add_target(p)
    p.add_argument("--m", required=True, type=_floats("--m"), metavar="M1,M2,..", help="widths, e.g. 1,2,4,8")
    p.add_argument("--alpha", type=int, default=1, help="smoothness order of Thm 10 (default 1)")
    p.add_argument("--beta", type=_number("--beta"), default=None,
                   help="decay rate of Thm 10; enables the Jackson network and bound (default off)")
    p.add_argument("--min-rate", type=_number("--min-rate"), default=None,
                   help="keep every fitted decay rate >= this (spectrum below -min-rate: the inverse theorem, Thm 11)")
    _add_json(p)

    p = sub.add_parser("derive", help="the loss, the Laplace transforms and the gradient-flow ODE, symbolically",
                       description="Show what SymPy derived for rho: L[rho](w) (stable form), the moment, "
                                   "||rho||^2, and for --m the loss and flow written out.")
    _add_target(p)
    p.add_argument("--m", type=int, default=None, help="also write out J and the flow for this width")
    p.add_argument("--latex", action="store_true", help="LaTeX instead of plain text")
    _add_json(p)

    p = sub.add_parser("train", help="train a real discrete RNN (linear or tanh) on sampled inputs (JMLR Figs. 1, 4)",
                       description="h_{k+1} = h_k + dt*sigma(W h_k + U x_k), y = c^T h_K, on white noise (x ~ N(0, 1/dt): "
                                   "increments of variance dt) or random cosines; the target is the exact discrete "
                                   "convolution dt*sum_j rho(j dt) x_{K-1-j}. Reports the loss per epoch and the exit "
                                   "epoch (first epoch with |L - L_0| > delta). With --a0/--w0 the network is the "
                                   "diagonal linear RNN with U = 1, c = a0, w = w0: the discrete counterpart of "
                                   "'memdyn flow' (exit_time = exit_epoch*lr against its tau_loss).")
    _add_target(p)
    p.add_argument("--width", type=int, default=16, help="hidden width (default 16; set by --a0 when given)")
    p.add_argument("--dt", type=_number("--dt"), default=0.1, help="Euler step (default 0.1)")
    p.add_argument("--T", type=_number("--T"), default=6.4, help="sequence length in time, a multiple of dt (default 6.4)")
    p.add_argument("--activation", default="linear", help="linear or tanh (default linear)")
    p.add_argument("--recurrence", default="full", help="full W or diagonal W = -diag(w) (default full)")
    p.add_argument("--optimizer", default="gd", help="gd (full batch), sgd (minibatches) or adam (optax) (default gd)")
    p.add_argument("--lr", type=_number("--lr"), default=None, help="learning rate (default 0.01 for gd/sgd, 1e-3 for adam)")
    p.add_argument("--epochs", type=int, default=2000, help="epochs (default 2000)")
    p.add_argument("--samples", default="128",
                   help="training sequences, or 'inf' for the exact white-noise expectation (linear only) (default 128)")
    p.add_argument("--batch", type=int, default=None, help="minibatch size (default 32 for sgd, full batch for adam)")
    p.add_argument("--inputs", default="white", help="white or cosine (default white)")
    p.add_argument("--seeds", type=int, default=1, help="networks trained at once, seeds SEED..SEED+n-1 (default 1)")
    p.add_argument("--seed", type=int, default=0, help="first seed: start, data and minibatch order (default 0)")
    p.add_argument("--delta", type=_number("--delta"), default=0.01, help="exit threshold on |L - L_0| (default 0.01)")
    p.add_argument("--a0", type=_floats("--a0"), metavar="A1,A2,..", help="start on (a0, w0): diagonal linear RNN, U = 1")
    p.add_argument("--w0", type=_floats("--w0"), metavar="W1,W2,..", help="initial decay rates, with --a0")
    p.add_argument("--points", type=int, default=200, help="log-spaced epochs to report (default 200)")
    _add_json(p)

    p = sub.add_parser("sharp", help="sharp escape times from the slow dynamics on M*, beside measured tau_loss",
                       description="Reduce the flow near M* to the drift of its one null neuron's rate, dw/dtau = F'(w) "
                                   "(F: the energy it captures once the fast variables relax; see memdyn/sharp.py), and "
                                   "set tau_slow (quadrature), tau_lead = 1/(F phi'^2) and, with --gaussian, the 1/mu "
                                   "series beside the measured tau_loss, with relative errors.")
    _add_target(p)
    p.add_argument("--sweep", required=True, metavar="NAME=V1,V2,..", help="the memory parameter and its values")
    p.add_argument("--a0", required=True, type=_floats("--a0"), metavar="A1,A2,..",
                   help="start on M*: fitted amplitudes and exactly one 0 (the null neuron)")
    p.add_argument("--w0", required=True, type=_floats("--w0"), metavar="W1,W2,..", help="initial decay rates")
    p.add_argument("--gaussian", type=_floats("--gaussian"), default=None, metavar="C,SIGMA",
                   help="the bump is C exp(-(t - NAME)^2/(2 SIGMA^2)): also print the 1/mu series")
    _add_flow_options(p, t1=1e15)
    _add_json(p)

    p = sub.add_parser("reproduce", help="reproduce the paper's optimisation results into a Markdown report",
                       description="On exp(-t) + 0.5 exp(-(t-mu)^2/2) started on M*: plateau sweeps and Theorem-20 fits "
                                   "for two w_min, Figs. 2 and 3, Hessian/gradient scalings on M* (Props. 33-34), the "
                                   "two stages from a random start, and momentum (App. B); writes report.md, "
                                   "results.json and PNG figures.")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--quick", dest="profile", action="store_const", const="quick",
                   help="plateau sweeps over memories 6..16 (default; about two minutes on 2 cores)")
    g.add_argument("--full", dest="profile", action="store_const", const="full",
                   help="memories 6..30, momentum sweep 8..22")
    p.set_defaults(profile="quick")
    p.add_argument("--out", default="reproduce-out", help="output folder (default ./reproduce-out)")
    _add_json(p)
    return parser


def _params(items):
    from .formula import parse_params

    return parse_params(items)


def _cmd_loss(args) -> dict:
    from .api import evaluate

    if len(args.a) != len(args.w):
        raise InputError("--w", f"has {len(args.w)} values but --a has {len(args.a)}")
    return evaluate(args.rho, _params(args.param), args.a, args.w, with_hessian=args.hessian)


def _cmd_flow(args) -> dict:
    from .api import flow

    result = flow(args.rho, _params(args.param), args.a0, args.w0, delta=args.delta, t1=args.t1, config=_config(args),
                  param_map=args.param_map)
    return result.to_json()


def _sweep_values(text: str) -> tuple[str, list[float]]:
    """--sweep NAME=V1,V2,.. -> (NAME, [V1, V2, ..])."""
    name, sep, values = text.partition("=")
    name = name.strip()
    if not sep or not name:
        raise InputError("--sweep", f"expected NAME=V1,V2,.., got {text!r}")
    try:
        return name, _floats("--sweep")(values)
    except argparse.ArgumentTypeError as err:
        raise InputError("--sweep", str(err).partition(": ")[2]) from None


def _cmd_sweep(args) -> dict:
    import numpy as np
    from tqdm import tqdm

    from .api import target
    from .init import exponential_part, on_invariant_set, random_bounded
    from .integrate import check_start
    from .sweep import run_sweep

    name, values = _sweep_values(args.sweep)
    base = _params(args.param)
    if name in base:
        raise InputError("--sweep", f"'{name}' is also given with --param")
    try:
        tg = target(args.rho, {**base, name: values})
    except InputError as err:
        if err.argument == f"--param {name}":
            raise InputError("--sweep", f"'{name}' is not a parameter of the formula") from None
        raise
    config = _config(args)
    if args.init == "explicit":
        if args.a0 is None or args.w0 is None:
            raise InputError("--a0", "give --a0 and --w0 (or --init mstar / --init random)")
        starts = np.asarray(check_start(args.a0, args.w0))[None, :]
    elif args.init == "mstar":
        parts = [exponential_part(tg.kernel, {**base, name: v}) for v in values]
        if any(p != parts[0] for p in parts):
            raise InputError("--init", f"the exponential terms change with '{name}': no common M* start")
        if not parts[0]:
            raise InputError("--init", "the formula has no term a*exp(-w*t) to build M* from")
        groups = None if args.groups is None else [int(g) for g in args.groups]
        m = args.m if args.m is not None else (sum(groups) if groups else len(parts[0])) + len(args.null_rates)
        a0, w0 = on_invariant_set(parts[0], m, null_rates=args.null_rates, group_sizes=groups)
        starts = np.concatenate([a0, w0])[None, :]
    else:
        if args.m is None or args.m < 1:
            raise InputError("--m", "give a positive width for --init random")
        if args.seeds < 1:
            raise InputError("--seeds", f"must be positive, got {args.seeds}")
        for flag, pair in (("--w-range", args.w_range), ("--a-range", args.a_range)):
            if len(pair) != 2:
                raise InputError(flag, f"needs two numbers LOW,HIGH, got {len(pair)}")
        starts = np.stack([np.concatenate(random_bounded(args.m, w_range=tuple(args.w_range),
                                                         a_range=tuple(args.a_range), beta=args.beta, seed=s))
                           for s in range(args.seeds)])
    n = len(values) * starts.shape[0]
    if args.chunk is not None and args.chunk < 1:
        raise InputError("--chunk", f"must be positive, got {args.chunk}")
    chunk = args.chunk or (64 if n > 64 else None)
    from .reparam import mapped

    tg = mapped(tg, args.param_map)
    with tqdm(total=n, desc="sweep", unit="solve", file=sys.stderr, disable=None, leave=False) as bar:
        result = run_sweep(tg, base, name, values, starts, delta=args.delta, t1=args.t1, config=config,
                           chunk=chunk, progress=bar.update)
    return result.to_json()


def _cmd_bench(args) -> dict:
    import json as _json
    import shutil
    import tempfile

    from tqdm import tqdm

    from .bench import markdown, run_bench

    out = Path(args.out) if args.out else None
    if out is not None and out.exists() and not out.is_dir():
        raise InputError("--out", f"{out} exists and is not a folder")
    with tqdm(desc="bench", file=sys.stderr, disable=None, leave=False) as bar:
        result = run_bench(args.profile, progress=lambda message: (bar.set_postfix_str(message), bar.update(1)))
    if out is not None:
        from . import report

        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=out, prefix=".partial-") as tmp:
            report.save(report.plot_work_precision(result["work_precision"]["rows"]), Path(tmp) / "work_precision.png")
            (Path(tmp) / "bench.md").write_text(markdown(result, "work_precision.png"))
            (Path(tmp) / "bench.json").write_text(_json.dumps(result, indent=1))
            for name in ("work_precision.png", "bench.md", "bench.json"):
                shutil.move(str(Path(tmp) / name), str(out / name))
    result["markdown"] = markdown(result)
    return result


def _cmd_train(args) -> dict:
    from tqdm import tqdm

    from . import rnn

    if (args.a0 is None) != (args.w0 is None):
        raise InputError("--w0" if args.w0 is None else "--a0", "--a0 and --w0 go together")
    if args.samples.strip().lower() in ("inf", "infinity"):
        samples = None
    else:
        try:
            samples = int(args.samples)
        except ValueError:
            raise InputError("--samples", f"expected a positive integer or 'inf', got {args.samples!r}") from None
    if args.points < 2:
        raise InputError("--points", f"must be at least 2, got {args.points}")
    start = None
    width, recurrence, activation, train_input = args.width, args.recurrence, args.activation, True
    if args.a0 is not None:
        start = rnn.diagonal_start(args.a0, args.w0)
        width, train_input = len(args.a0), False
        recurrence = "diagonal"
    lr = args.lr if args.lr is not None else (1e-3 if args.optimizer == "adam" else 0.01)
    spec = rnn.RNNSpec(width=width, dt=args.dt, horizon=args.T, activation=activation, recurrence=recurrence,
                       train_input=train_input)
    config = rnn.TrainConfig(optimizer=args.optimizer, lr=lr, epochs=args.epochs, samples=samples, batch=args.batch,
                             inputs=args.inputs, delta=args.delta, seed=args.seed)
    if samples is None and activation != "linear":
        raise InputError("--samples", "the exact white-noise expectation needs --activation linear")
    grid = rnn.rho_grid(args.rho, _params(args.param), spec)
    bar = tqdm(total=config.epochs, desc="train", unit="epoch", file=sys.stderr, disable=None, leave=False)
    try:
        result = rnn.train(spec, grid, config, seeds=args.seeds, start=start, progress=bar.update)
    finally:
        bar.close()
    return result.to_json(points=args.points)


def _cmd_sharp(args) -> dict:
    from tqdm import tqdm

    from .api import target
    from .sharp import compare

    name, values = _sweep_values(args.sweep)
    if args.param_map != "plain":
        raise InputError("--param-map", "the sharp reduction is derived for the plain parameterisation")
    if args.gaussian is not None and (len(args.gaussian) != 2 or args.gaussian[1] <= 0):
        raise InputError("--gaussian", "expected C,SIGMA with SIGMA > 0")
    base = _params(args.param)
    if name in base:
        raise InputError("--sweep", f"'{name}' is also given with --param")
    tg = target(args.rho, {**base, name: values})
    with tqdm(total=len(values), desc="sharp", file=sys.stderr, disable=None, leave=False) as bar:
        return compare(tg, base, name, values, args.a0, args.w0, delta=args.delta, t1=args.t1, config=_config(args),
                       gaussian=None if args.gaussian is None else tuple(args.gaussian), progress=bar.update)


def _cmd_approx(args) -> dict:
    from .api import target
    from .approx import approximate

    widths = []
    for m in args.m:
        if m != int(m) or m < 1 or m > 32:
            raise InputError("--m", f"widths must be integers in 1..32, got {m:g}")
        widths.append(int(m))
    if args.alpha < 1:
        raise InputError("--alpha", f"must be a positive integer, got {args.alpha}")
    if args.beta is not None and not args.beta > 0:
        raise InputError("--beta", f"must be positive, got {args.beta}")
    if args.min_rate is not None and not args.min_rate > 0:
        raise InputError("--min-rate", f"must be positive, got {args.min_rate}")
    params = _params(args.param)
    from .approx import jackson_constants, rate_fit

    tg = target(args.rho, params)
    out = approximate(tg, params, widths, alpha=args.alpha, beta=args.beta, min_rate=args.min_rate)
    out["rate_best_l1"] = rate_fit(out["m"], out["l1_error"])
    if args.beta is not None:
        out["constants"] = jackson_constants(tg, params, args.alpha, args.beta)
        out["rate_jackson_l1"] = rate_fit(out["m"], out["jackson_l1_error"])
    out.setdefault("jackson_l1_error", None)
    out.setdefault("jackson_bound", None)
    return out


def _cmd_derive(args) -> dict:
    from .api import target
    from .stable import plain
    from .symbolic import latex_summary

    tg = target(args.rho, _params(args.param))
    tg.data(_params(args.param))  # refuses kernels whose loss is not finite
    d = tg.derivation
    if args.m is not None and not 1 <= args.m <= 8:
        raise InputError("--m", f"must be between 1 and 8 (the written-out flow grows like m^2), got {args.m}")
    out = {"rho": str(d.kernel.expr), "params": list(d.kernel.param_names),
           "terms": [{"term": str(tt.term), "method": tt.method, "note": tt.note,
                      "laplace": str(tt.laplace) if tt.laplace is not None else None,
                      "laplace_printed": str(plain(tt.laplace)) if tt.laplace is not None else None,
                      "moment": str(-tt.d1) if tt.d1 is not None else None} for tt in d.terms],
           "norm2": str(d.norm2) if d.norm2 is not None else "quadrature",
           "loss": "J(a, w) = sum_ij a_i a_j/(w_i + w_j) - 2 sum_i a_i L(w_i) + ||rho||^2"}
    if args.latex:
        out["latex"] = latex_summary(d, args.m)
    elif args.m is not None:
        a, w, J, ga, gw = d.unrolled(args.m)
        out["unrolled"] = {"loss": str(J),
                           "flow": [f"d{ai}/dtau = {-g}" for ai, g in zip(a, ga)]
                           + [f"d{wi}/dtau = {-g}" for wi, g in zip(w, gw)]}
    return out


def _print_derive(out: dict, latex: bool) -> None:
    print(f"rho(t) = {out['rho']}")
    if latex:
        for key, value in out["latex"].items():
            if isinstance(value, list):
                print(f"{key}:")
                for line in value:
                    print(f"  {line}")
            else:
                print(f"{key}: {value}")
        return
    print(out["loss"])
    print("L(w) = int_0^oo e^{-wt} rho(t) dt, term by term:")
    for term in out["terms"]:
        print(f"  term {term['term']}: {term['method']}" + (f" ({term['note']})" if term["note"] else ""))
        if term["laplace"]:
            print(f"    L  = {term['laplace']}")
            if "experfc" in term["laplace"]:
                print("    (experfc(A, z) = exp(A)*erfc(z), evaluated as exp(A - z^2)*erfcx(z) for z >= 0)")
            print(f"    int t e^(-wt) term dt = {term['moment']}")
    print(f"||rho||^2 = {out['norm2']}")
    if "unrolled" in out:
        print(f"J = {out['unrolled']['loss']}")
        for line in out["unrolled"]["flow"]:
            print(line)


def _cmd_reproduce(args) -> dict:
    from tqdm import tqdm

    from .reproduce import STEPS, reproduce

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise InputError("--out", f"{out} exists and is not a folder")
    bar = tqdm(total=sum(STEPS.values()), desc="reproduce", file=sys.stderr, disable=None, leave=False)

    def progress(message):
        bar.set_postfix_str(message)
        bar.update(1)

    try:
        summary = reproduce(args.profile, out, progress=progress)
    finally:
        bar.close()
    return summary


def _print_human(command: str, out: dict) -> None:
    if command == "loss":
        print(f"loss   = {out['loss']:.16g}")
        print(f"grad_a = {out['grad_a']}")
        print(f"grad_w = {out['grad_w']}")
        if "hessian" in out:
            print("hessian =")
            for row in out["hessian"]:
                print("  " + " ".join(f"{x: .6e}" for x in row))
    elif command == "flow":
        for key in ("tau_param", "tau_loss", "loss_initial", "loss_final", "t1", "t_end", "solver", "steps", "status"):
            print(f"{key:12s} = {out[key]}")
    elif command == "sweep":
        print(f"{'value':>10} {'1/omega':>9} {'tau_param':>14} {'tau_loss':>14} {'steps':>6}  status")
        for v, mu, tp, tl, st, status in zip(out["values"], out["memory"], out["tau_param"], out["tau_loss"],
                                             out["steps"], out["status"]):
            fmt = lambda x: "null" if x is None else f"{x:.6g}"  # noqa: E731
            print(f"{v:>10g} {mu:>9g} {fmt(tp):>14} {fmt(tl):>14} {st:>6}  {status}")
        for key in ("tau_param", "tau_loss"):
            fit = out["fit"][key]["plain"]
            if fit:
                print(f"slope of ln {key} vs 1/omega: {fit['slope']:.4f} +- {fit['slope_stderr']:.4f} "
                      f"(Theorem 20 bound: >= w_min = {out['fit'][key]['bound_slope']:g})")
        print(f"compile {out['timing']['compile_s']:.2f} s, run {out['timing']['run_s']:.3f} s")
    elif command == "bench":
        print(out["markdown"])
    elif command == "approx":
        jl, jb = out["jackson_l1_error"], out["jackson_bound"]
        print(f"{'m':>3} {'L2 error':>12} {'L1 error':>12}" + (f" {'Jackson L1':>12} {'bound':>12}" if jl else ""))
        for i, m in enumerate(out["m"]):
            flag = "" if out["improved"][i] else "  (optimiser did not improve on m-1: kept)"
            extra = f" {jl[i]:12.4e} {jb[i]:12.4e}" if jl else ""
            print(f"{m:>3} {out['l2_error'][i]:12.4e} {out['l1_error'][i]:12.4e}{extra}{flag}")
        if out.get("rate_best_l1"):
            print(f"slope of ln(L1 error) vs ln m: best fit {out['rate_best_l1']['slope']:.2f}"
                  + (f", Jackson {out['rate_jackson_l1']['slope']:.2f} (Thm 10: <= -alpha = -{out['alpha']})"
                     if out.get("rate_jackson_l1") else ""))
        if "constants" in out:
            k = out["constants"]
            print(f"Thm 10 constants: alpha = {k['alpha']}, beta = {k['beta']:g}, gamma = {k['gamma']:.4g} "
                  f"(sup on a grid); e^(beta t) rho^(j) decays: {k['decays']}")
    elif command == "sharp":
        fmt = lambda x: "null" if x is None else f"{x:.6g}"  # noqa: E731
        pct = lambda x: "" if x is None else f"({x:+.1%})"  # noqa: E731
        series = out["gaussian"] is not None
        print(f"null neuron at w0 = {out['w_null']:g}; delta = {out['delta']:g}")
        print(f"{'1/omega':>8} {'tau_loss':>12} {'tau_slow':>12} {'':9} {'tau_lead':>12} {'':9}"
              + (f" {'series O(1)':>12} {'':9} {'series O(1/mu)':>14} {'':9}" if series else ""))
        for r in out["rows"]:
            line = (f"{r['memory']:>8g} {fmt(r['tau_loss']):>12} {fmt(r['tau_slow']):>12} {pct(r['err_slow']):9} "
                    f"{fmt(r['tau_lead']):>12} {pct(r['err_lead']):9}")
            if series:
                line += (f" {fmt(r['tau_series0']):>12} {pct(r['err_series0']):9} {fmt(r['tau_series1']):>14} "
                         f"{pct(r['err_series1']):9}")
            print(line)
    elif command == "train":
        sp, tr = out["spec"], out["train"]
        print(f"{sp['activation']} {sp['recurrence']} RNN, width {sp['width']}, dt {sp['dt']:g}, T {sp['T']:g}; "
              f"{tr['optimizer']} lr {tr['lr']:g}, {tr['samples'] or 'exact (inf)'} {tr['inputs']} samples, "
              f"seeds {out['seeds'][0]}..{out['seeds'][-1]}")
        marks = sorted({0, *[e for e in (1, 10, 100, 1000, 10000, 100000) if e <= out['epochs'][-1]], out['epochs'][-1]})
        for e in marks:
            i = out["epochs"].index(e) if e in out["epochs"] else min(range(len(out["epochs"])),
                                                                        key=lambda k: abs(out["epochs"][k] - e))
            print(f"  epoch {out['epochs'][i]:>7d}  loss {out['loss'][i]:.6g}")
        ex = out["exit_epoch"]
        print(f"exit epoch (|L - L_0| > {out['delta']:g}): {ex}" + ("" if ex is None else f", epoch*lr = {out['exit_time']:.6g}"))
    elif command == "reproduce":
        sm = out["summary"]
        print(f"wrote {', '.join(out['files'])} to {out['out']}")
        for sweep in sm["sweeps"]:
            for key in ("slope_tau_param", "slope_tau_loss"):
                f = sweep[key]
                if f:
                    print(f"  w_min = {sweep['w_min']:g}: {key} = {f['slope']:.4f} +- {f['slope_stderr']:.4f}")
        for name, sp in sm["spectra"].items():
            for key in ("fit_grad", "fit_smallest"):
                f = sp[key]
                if f:
                    print(f"  {name} {key}: s = {f['s']:.3f} +- {f['s_stderr']:.3f}, q = {f['q']:.2f} +- {f['q_stderr']:.2f}")
        print("  saddle exponents: " + ", ".join(f"{k} {v:.3f}" for k, v in sm["saddle_exponents"].items()))
        tr = sm["training"]
        c = tr["bridge_closest"]
        print(f"  bridge: reduced tau_loss {tr['bridge_tau_loss']:.6g}; RNN exit epoch*lr {c['exit_time']:.6g} "
              f"(gap {c['rel_gap']:+.2%}) at lr {c['lr']:g}, dt {c['dt']:g}")
        print("  section timings (s): " + ", ".join(f"{k} {v:.1f}" for k, v in sm["timing_s"].items()))


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from . import __version__

        print(__version__)
        return 0
    if args.command is None:
        parser.print_help()
        return 2
    handlers = {"loss": _cmd_loss, "flow": _cmd_flow, "sweep": _cmd_sweep, "derive": _cmd_derive,
                "reproduce": _cmd_reproduce, "bench": _cmd_bench, "approx": _cmd_approx,
                "train": _cmd_train, "sharp": _cmd_sharp}
    try:
        out = handlers[args.command](args)
    except InputError as err:
        print(f"memdyn {args.command}: error: {err}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(out))
    elif args.command == "derive":
        _print_derive(out, args.latex)
    else:
        _print_human(args.command, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
