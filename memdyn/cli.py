"""``memdyn``: the command line, a thin shell over :mod:`memdyn.api` and :mod:`memdyn.studies`.

Each command is one small object: its arguments (:meth:`Command.add_arguments`), its run
(:meth:`Command.run`, which calls the library and returns a result with ``to_json``) and its human
printout (:meth:`Command.show`). Every command that computes takes ``--json`` and then prints exactly
one JSON object on stdout. Any :class:`~memdyn.errors.MemdynError` ends with one line naming the flag,
exit status 2 and nothing written; Ctrl-C ends with one line and exit status 130.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import time
from typing import Any, ClassVar

from .core.functions import DOCUMENTED_NAMES
from .errors import InputError, MemdynError

EXAMPLE_RHO = "exp(-t) + 0.5*exp(-(t - mu)**2/2)"


MAX_SWEEP = 1_000_000
"""Most values one --sweep range may expand to."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2 (argparse prints usage + message otherwise)
        self.exit(2, f"memdyn: error: {message} (see '{self.prog} --help')\n")


def _floats(flag: str):
    def parse(text: str) -> list[float]:
        try:
            values = [float(x) for x in text.split(",") if x.strip() != ""]
        except ValueError:
            raise argparse.ArgumentTypeError(f"{flag}: expected comma-separated numbers, got {text!r}") from None
        if not values:
            raise argparse.ArgumentTypeError(f"{flag}: no numbers given")
        for v in values:
            if not math.isfinite(v):
                raise argparse.ArgumentTypeError(f"{flag}: values must be finite, got {v}")
        return values

    return parse


def _number(flag: str):
    def parse(text: str) -> float:
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{flag}: expected a number, got {text!r}") from None
        if not math.isfinite(v):
            raise argparse.ArgumentTypeError(f"{flag}: must be finite, got {text!r}")
        return v

    return parse


def _null(x, fmt: str = ".6g") -> str:
    return "null" if x is None else format(x, fmt)


class Command:
    """One subcommand: ``name``, its help, its arguments, its run and its printout."""

    name: ClassVar[str]
    help: ClassVar[str]
    description: ClassVar[str] = ""
    flags: ClassVar[dict[str, str]] = {}
    """Library argument -> flag, where the flag is not ``--`` + the argument with ``_`` as ``-``
    (``param mu`` -> ``--param mu`` needs no entry)."""
    json_flag: ClassVar[bool] = True

    def add_arguments(self, p: argparse.ArgumentParser) -> None:
        raise NotImplementedError

    def run(self, args) -> Any:
        """Compute; returns a result with ``to_json()`` (or a JSON-ready dict)."""
        raise NotImplementedError

    def show(self, out: dict, args) -> None:
        """Print the result for a person (``out`` is the JSON form)."""
        print(json.dumps(out, indent=1))

    def flag(self, argument: str) -> str:
        """The flag that spells a library argument (``rtol`` -> ``--rtol``, ``param mu`` -> ``--param mu``)."""
        if argument in self.flags:
            return self.flags[argument]
        head, _, rest = argument.partition(" ")
        if head.startswith("-"):
            return argument
        flag = "--" + head.replace("_", "-")
        return f"{flag} {rest}" if rest else flag

    # shared argument groups ---------------------------------------------------------------------
    @staticmethod
    def add_target(p) -> None:
        p.add_argument("--rho", required=True, metavar="EXPR",
                       help=f"target kernel rho(t) as a formula in t, e.g. \"{EXAMPLE_RHO}\"; functions: "
                            + " ".join(DOCUMENTED_NAMES) + "; constants pi, E; ^ or ** for powers")
        p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                       help="value of a parameter of the formula (repeat for several)")

    @staticmethod
    def add_flow_options(p, *, t1: float) -> None:
        from .core.integrate import SOLVERS, SolverConfig
        from .core.maps import DESCRIPTIONS

        d = SolverConfig()
        p.add_argument("--delta", required=True, type=_number("--delta"), help="hitting-time threshold (> 0)")
        p.add_argument("--t1", type=_number("--t1"), default=t1, help=f"horizon in training time, up to 1e30 (default {t1:g})")
        p.add_argument("--solver", default=d.solver, help=f"one of {', '.join(SOLVERS)} (default {d.solver})")
        p.add_argument("--rtol", type=_number("--rtol"), default=d.rtol, help=f"relative tolerance (default {d.rtol:g})")
        p.add_argument("--atol", type=_number("--atol"), default=d.atol, help=f"absolute tolerance (default {d.atol:g})")
        p.add_argument("--max-steps", type=int, default=d.max_steps, help=f"step budget per solve (default {d.max_steps})")
        p.add_argument("--param-map", default="plain", metavar="NAME",
                       help="train v with w = g(v): " + "; ".join(f"{k}: {v}" for k, v in DESCRIPTIONS.items())
                            + " (default plain). Starts stay decay rates; tau_param is measured in (a, v)")

    @staticmethod
    def config(args):
        from .core.integrate import SolverConfig

        return SolverConfig(solver=args.solver, rtol=args.rtol, atol=args.atol, max_steps=args.max_steps)

    @staticmethod
    def params(args) -> dict[str, float]:
        from .core.params import parse_params

        return parse_params(args.param)

    @staticmethod
    def sweep_values(text: str) -> tuple[str, list[float]]:
        """--sweep NAME=V1,V2,.. | NAME=START:STOP:STEP (stop included) | NAME=geom(START,STOP,N) -> (NAME, values)."""
        name, sep, values = text.partition("=")
        name = name.strip()
        if not sep or not name:
            raise InputError("--sweep", f"expected NAME=V1,V2,.. or NAME=START:STOP:STEP or NAME=geom(START,STOP,N), "
                                        f"got {text!r}")
        try:
            geom = re.fullmatch(r"\s*geom\((.*)\)\s*", values)
            if geom:
                args = _floats("--sweep")(geom.group(1))
                start, stop, n = args if len(args) == 3 else (0.0, 0.0, 0.0)
                if n != int(n) or not 2 <= n <= MAX_SWEEP or not (start > 0 and stop > 0):
                    raise InputError("--sweep", f"geom(START,STOP,N) needs START, STOP > 0 and N an integer in "
                                                f"2..{MAX_SWEEP}, got {values.strip()!r}")
                n = int(n)
                return name, [start * (stop / start) ** (k / (n - 1)) if 0 < k < n - 1 else (start, stop)[k > 0]
                              for k in range(n)]
            if ":" in values:
                parts = values.split(":")
                if len(parts) != 3:
                    raise InputError("--sweep", f"expected START:STOP:STEP, got {values.strip()!r}")
                start, stop, step = (_floats("--sweep")(v)[0] for v in parts)  # one number each
                n = math.floor((stop - start) / step * (1 + 1e-12) + 1e-9) + 1 if step != 0 else 0
                if step == 0 or n < 1 or n > MAX_SWEEP:
                    raise InputError("--sweep", f"START:STOP:STEP must give 1..{MAX_SWEEP} values (STEP != 0, "
                                                f"towards STOP), got {values.strip()!r}")
                return name, [round(start + k * step, 12) for k in range(n)]
            return name, _floats("--sweep")(values)
        except argparse.ArgumentTypeError as err:
            raise InputError("--sweep", str(err).partition(": ")[2]) from None

    @staticmethod
    def progress_bar(**kw):
        from tqdm import tqdm

        return tqdm(file=sys.stderr, disable=None, leave=False, **kw)


class Loss(Command):
    name = "loss"
    help = "loss J(a, w) and its gradient for rho_hat = sum a_i exp(-w_i t)"
    description = "Loss J = int (sum_i a_i e^{-w_i t} - rho(t))^2 dt and its gradient."

    def add_arguments(self, p):
        self.add_target(p)
        p.add_argument("--a", required=True, type=_floats("--a"), metavar="A1,A2,..",
                       help="amplitudes (use --a=-1,2 for a leading minus)")
        p.add_argument("--w", required=True, type=_floats("--w"), metavar="W1,W2,..", help="decay rates (> 0)")
        p.add_argument("--hessian", action="store_true", help="also print the 2m x 2m Hessian")

    flags = {"a0": "--a", "w0": "--w"}

    def run(self, args):
        from .api import evaluate

        return evaluate(args.rho, self.params(args), args.a, args.w, with_hessian=args.hessian)

    def show(self, out, args):
        print(f"loss   = {out['loss']:.16g}")
        print(f"grad_a = {out['grad_a']}")
        print(f"grad_w = {out['grad_w']}")
        if "hessian" in out:
            print("hessian =")
            for row in out["hessian"]:
                print("  " + " ".join(f"{x: .6e}" for x in row))


class Flow(Command):
    name = "flow"
    help = "integrate the gradient flow and report both hitting times (JMLR Thm 20)"
    description = ("tau_param = first tau with ||theta - theta0|| > delta; tau_loss = first tau with |J - J0| > delta; "
                   "null when not reached by t1.")

    def add_arguments(self, p):
        self.add_target(p)
        p.add_argument("--a0", required=True, type=_floats("--a0"), metavar="A1,A2,..", help="initial amplitudes")
        p.add_argument("--w0", required=True, type=_floats("--w0"), metavar="W1,W2,..", help="initial decay rates (> 0)")
        self.add_flow_options(p, t1=1e8)

    def run(self, args):
        from .api import flow

        return flow(args.rho, self.params(args), args.a0, args.w0, delta=args.delta, t1=args.t1,
                    config=self.config(args), param_map=args.param_map)

    def show(self, out, args):
        for key in ("tau_param", "tau_loss", "loss_initial", "loss_final", "t1", "t_end", "solver", "steps", "status"):
            print(f"{key:12s} = {out[key]}")
        if out.get("advice"):
            print(f"{'':12s}   ({out['advice']})")


class Sweep(Command):
    name = "sweep"
    help = "hitting times over a list of parameter values (and starts), batched"
    description = ("The flow of 'memdyn flow' over --sweep NAME=V1,V2,.. (x several starts), solved as one compiled, "
                   "vmapped call; fits ln tau against the memory 1/omega (NAME itself, or 1/NAME for a parameter "
                   "named omega) beside Theorem 20's slope w_min.")
    flags = {"param": "--sweep", "values": "--sweep", "starts": "--a0"}

    def add_arguments(self, p):
        self.add_target(p)
        p.add_argument("--sweep", required=True, action="append", metavar="NAME=VALUES",
                       help="a swept parameter and its values: V1,V2,.., START:STOP:STEP (stop included: mu=8:11:0.5 "
                            "is 8, 8.5, .., 11) or geom(START,STOP,N) (N values, geometric). Give it again for a "
                            "grid (the Cartesian product; the first is the memory axis, the Theorem-20 fits need "
                            "it alone)")
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
        self.add_flow_options(p, t1=1e12)
        p.add_argument("--chunk", type=int, default=None,
                       help="elements per compiled call, for progress on long sweeps (default: all, or 64 above 64)")
        p.add_argument("--devices", default="1", metavar="all|N",
                       help="spread the chunks over N local devices (GPUs; CPU devices with XLA_FLAGS="
                            "--xla_force_host_platform_device_count=N), each running its own batch; 'all' for every "
                            "one (default 1)")
        p.add_argument("--coordinator", default=None, metavar="HOST:PORT",
                       help="run as one process of a jax.distributed cluster (or set JAX_COORDINATOR_ADDRESS): each "
                            "process solves its share of the chunks into --out DIR, a folder all of them reach, and "
                            "process 0 prints and writes the whole table (default: one process)")
        p.add_argument("--processes", type=int, default=None, metavar="N",
                       help="processes in the cluster (or JAX_NUM_PROCESSES)")
        p.add_argument("--process-id", type=int, default=None, metavar="I",
                       help="this process's id, 0..N-1 (or JAX_PROCESS_ID)")
        p.add_argument("--out", default=None, metavar="DIR",
                       help="keep each finished chunk in DIR (written atomically) and the final table there "
                            "(results.json, results.csv); rerun with the same arguments to resume a killed run "
                            "(default: keep nothing)")

    def run(self, args):
        from .api import sweep

        axes = [self.sweep_values(text) for text in args.sweep]
        name, values = axes[0]
        if args.coordinator or args.processes is not None or os.environ.get("JAX_COORDINATOR_ADDRESS"):
            from .api import distributed

            if not args.out:
                raise InputError("out", "a sweep over several processes needs --out DIR, a folder every process reaches")
            distributed(args.coordinator, args.processes, args.process_id)

        def resumed(done, total):
            rest = "solving the rest" if done < total else "nothing left to solve"
            print(f"memdyn sweep: resuming {args.out}: {done} of {total} chunks already done, {rest}", file=sys.stderr)

        with self.progress_bar(desc="sweep", unit="solve") as bar:
            result = sweep(args.rho, self.params(args), name, values, init=args.init, a0=args.a0, w0=args.w0,
                           m=args.m, null_rates=args.null_rates,
                           groups=None if args.groups is None else [int(g) for g in args.groups],
                           seeds=args.seeds, w_range=args.w_range, a_range=args.a_range, beta=args.beta,
                           delta=args.delta, t1=args.t1, config=self.config(args), param_map=args.param_map,
                           chunk=args.chunk, progress=bar.update, on_size=lambda n: setattr(bar, "total", n),
                           out_dir=args.out, on_resume=resumed, grid=axes[1:], devices=args.devices)
        import jax

        if args.out and jax.process_index() == 0:
            _write_table(args.out, result.to_json())
        if jax.process_index() > 0:  # process 0 prints and writes the table
            print(f"memdyn sweep: process {jax.process_index()} of {jax.process_count()} done; process 0 writes "
                  f"the table to {args.out}", file=sys.stderr)
            raise SystemExit(0)
        return result

    def show(self, out, args):
        axes = list(out.get("axes", {}))
        print(f"{out['param']:>10}" + "".join(f" {a:>10}" for a in axes)
              + f" {'1/omega':>9} {'tau_param':>14} {'tau_loss':>14} {'steps':>6}  status")
        for i, (v, mu, tp, tl, st, status) in enumerate(zip(out["values"], out["memory"], out["tau_param"],
                                                             out["tau_loss"], out["steps"], out["status"])):
            print(f"{v:>10g}" + "".join(f" {out['axes'][a][i]:>10g}" for a in axes)
                  + f" {mu:>9g} {_null(tp):>14} {_null(tl):>14} {st:>6}  {status}")
        for key in ("tau_param", "tau_loss"):
            fit = out["fit"][key]["plain"] if out["fit"][key] else None
            if fit:
                print(f"slope of ln {key} vs 1/omega: {fit['slope']:.4f} +- {fit['slope_stderr']:.4f} "
                      f"(Theorem 20 bound: >= w_min = {out['fit'][key]['bound_slope']:g})")
        print(f"compile {out['timing']['compile_s']:.2f} s, run {out['timing']['run_s']:.3f} s")


class Sharp(Command):
    name = "sharp"
    help = "sharp escape times from the slow dynamics on M*, beside measured tau_loss"
    description = ("Reduce the flow near M* to its slow system (memdyn/theory/sharp.py): the fitted neurons relax, the "
                   "null neurons' amplitudes and rates (any number of them) drift in the metric the slow manifold "
                   "induces; tau_slow is its time to capture delta of the loss, tau_adiabatic the same with the null "
                   "amplitudes relaxed too, and with one null neuron tau_lead = 1/(F phi'^2) (Laplace's rule) and, "
                   "with --gaussian, the 1/mu series, all beside the measured tau_loss with relative errors.")
    flags = {"param": "--sweep", "values": "--sweep"}

    def add_arguments(self, p):
        self.add_target(p)
        p.add_argument("--sweep", required=True, metavar="NAME=VALUES",
                       help="the memory parameter and its values: V1,V2,.., START:STOP:STEP (stop included) or "
                            "geom(START,STOP,N)")
        p.add_argument("--a0", required=True, type=_floats("--a0"), metavar="A1,A2,..",
                       help="start on M*: fitted amplitudes and at least one 0 (the null neurons)")
        p.add_argument("--w0", required=True, type=_floats("--w0"), metavar="W1,W2,..", help="initial decay rates")
        p.add_argument("--gaussian", type=_floats("--gaussian"), default=None, metavar="C,SIGMA",
                       help="the bump is C exp(-(t - NAME)^2/(2 SIGMA^2)): also print the 1/mu series (one null neuron)")
        self.add_flow_options(p, t1=1e15)

    def run(self, args):
        from .api import sharp

        name, values = self.sweep_values(args.sweep)
        if args.param_map != "plain":
            raise InputError("param_map", "the sharp reduction is derived for the plain parameterisation")
        with self.progress_bar(total=len(values), desc="sharp") as bar:
            return sharp(args.rho, self.params(args), name, values, args.a0, args.w0, delta=args.delta, t1=args.t1,
                         config=self.config(args), gaussian=args.gaussian, progress=bar.update)

    def show(self, out, args):
        pct = lambda x: "" if x is None else f"({x:+.1%})"  # noqa: E731
        keys = ["slow", "adiabatic"] + (["lead"] if "tau_lead" in out["rows"][0] else []) + (
            ["series0", "series1"] if out["gaussian"] is not None else [])
        names = {"slow": "tau_slow", "adiabatic": "tau_adiabatic", "lead": "tau_lead", "series0": "series O(1)",
                 "series1": "series O(1/mu)"}
        nulls = [w for a, w in zip(out["a0"], out["w0"]) if a == 0]
        print(f"null neurons at w = {', '.join(f'{w:g}' for w in nulls)}; delta = {out['delta']:g}")
        print((f"{'1/omega':>8} {'tau_loss':>12}" + "".join(f" {names[k]:>14} {'':9}" for k in keys)).rstrip())
        for r in out["rows"]:
            print((f"{r['memory']:>8g} {_null(r['tau_loss']):>12}"
                   + "".join(f" {_null(r['tau_' + k]):>14} {pct(r['err_' + k]):9}" for k in keys)).rstrip())


class Approx(Command):
    name = "approx"
    help = "best L2 fits by width-m exponential sums, their L1/L2 errors, Jackson networks"
    description = ("For each width m: the best L2 fit of rho by sum_i a_i exp(-w_i t) (several starts, warm-started "
                   "from width m-1, non-increasing in m; a fit that did not improve is flagged), its L2 and L1 errors "
                   "(L1 = sup_t ||H_t - H_hat_t||), and with --beta the constructive network of JMLR Thm 10 with its "
                   "error and bound.")
    flags = {"widths": "--m"}

    def add_arguments(self, p):
        self.add_target(p)
        p.add_argument("--m", required=True, type=_floats("--m"), metavar="M1,M2,..", help="widths, e.g. 1,2,4,8")
        p.add_argument("--alpha", type=int, default=1, help="smoothness order of Thm 10 (default 1)")
        p.add_argument("--beta", type=_number("--beta"), default=None,
                       help="decay rate of Thm 10; enables the Jackson network and bound (default off)")
        p.add_argument("--min-rate", type=_number("--min-rate"), default=None,
                       help="keep every fitted decay rate >= this (spectrum below -min-rate: the inverse theorem, Thm 11)")
        p.add_argument("--norm", choices=("l2", "l1", "sup"), default=None,
                       help="best fits in this norm by the extended-precision engine (256-bit; widths to 40): l2 by "
                            "variable projection and Newton, sup by a Remez-type iteration that equalises the error's "
                            "extrema between its zeros (Hackbusch's variables) with its equioscillation certificate, "
                            "l1 by Newton between the error's zeros (first-order residual stated). "
                            "Default: the float64 L2 fits above")

    def run(self, args):
        from .api import approximate, best_fits

        if args.norm is not None:
            if args.beta is not None:
                raise InputError("beta", "the Jackson network is offered without --norm only")
            with self.progress_bar(total=int(max(args.m)) if args.m else None, desc="fits", unit="width") as bar:
                return best_fits(args.rho, self.params(args), args.m, args.norm, min_rate=args.min_rate,
                                 progress=lambda m: bar.update(1))
        return approximate(args.rho, self.params(args), args.m, alpha=args.alpha, beta=args.beta,
                           min_rate=args.min_rate)

    def show(self, out, args):
        if "norm" in out:
            return _show_fits(out)
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
        if out.get("constants"):
            k = out["constants"]
            print(f"Thm 10 constants: alpha = {k['alpha']}, beta = {k['beta']:g}, gamma = {k['gamma']:.4g} "
                  f"(sup on a grid); e^(beta t) rho^(j) decays: {k['decays']}")


def _write_table(folder: str, out: dict) -> None:
    """results.json and results.csv (one row per element) in the sweep's folder, written atomically
    (:func:`memdyn.studies.output.write_atomically`: both or neither)."""
    from pathlib import Path

    folder = Path(folder)
    axes = list(out.get("axes", {}))
    columns = [out["param"], *axes, "memory", "start", "tau_param", "tau_loss", "loss_initial", "loss_final",
               "steps", "status"]
    rows = [",".join(columns)]
    n_starts = len(out["start"])
    for i, value in enumerate(out["values"]):
        cells = [value, *(out["axes"][a][i] for a in axes), out["memory"][i], i % n_starts, out["tau_param"][i],
                 out["tau_loss"][i], out["loss_initial"][i], out["loss_final"][i], out["steps"][i], out["status"][i]]
        rows.append(",".join("" if c is None else repr(c) if isinstance(c, float) else str(c) for c in cells))
    from .studies.output import write_atomically

    write_atomically(folder, {"results.json": lambda path: path.write_text(json.dumps(out, indent=1)),
                              "results.csv": lambda path: path.write_text("\n".join(rows) + "\n")})


def _show_fits(out):
    def num(x):
        return f"{x:12.4e}" if x is not None else f"{'inf':>12}"

    sup = out["norm"] == "sup"
    print(f"best {out['norm']} fits of rho = {out['rho']} ({out['precision_bits']}-bit arithmetic"
          + (f", rates >= {out['min_rate']:g}" if out["min_rate"] else "") + ")")
    print(f"{'m':>3} {'L2 error':>12} {'L1 error':>12} {'sup error':>12}"
          + (f" {'lower bound':>12} {'alternation':>11}" if sup else ""))
    for r in out["fits"]:
        extra = ""
        if sup:
            n = len(r.get("alternation", []))
            extra = f" {num(r.get('lower_bound'))} {n:>5}/{2 * r['m'] + 1:<5}" if r["converged"] else "  (no equioscillation reached)"
        flag = "" if r["improved"] else "  (kept m-1)"
        print(f"{r['m']:>3} {num(r['l2_error'])} {num(r['l1_error'])} {num(r['sup_error'])}{extra}{flag}".rstrip())


class Derive(Command):
    name = "derive"
    help = "the loss, the Laplace transforms and the gradient-flow ODE, symbolically"
    description = ("Show what SymPy derived for rho: L[rho](w) (stable form), the moment, ||rho||^2, and for --m the "
                   "loss and flow written out.")

    def add_arguments(self, p):
        self.add_target(p)
        p.add_argument("--m", type=int, default=None, help="also write out J and the flow for this width (1..8)")
        p.add_argument("--latex", action="store_true", help="LaTeX instead of plain text")

    def run(self, args):
        from .api import describe

        return describe(args.rho, self.params(args), m=args.m, latex=args.latex)

    def show(self, out, args):
        print(f"rho(t) = {out['rho']}")
        if args.latex:
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


class Train(Command):
    name = "train"
    help = "train a real discrete RNN (linear or tanh) on sampled inputs (JMLR Figs. 1, 4)"
    description = ("h_{k+1} = h_k + dt*sigma(W h_k + U x_k), y = c^T h_K, on white noise (x ~ N(0, 1/dt): increments of "
                   "variance dt) or random cosines; the target is the exact discrete convolution dt*sum_j rho(j dt) "
                   "x_{K-1-j}. Reports the loss per epoch and the exit epoch (first epoch with |L - L_0| > delta). With "
                   "--a0/--w0 the network is the diagonal linear RNN with U = 1, c = a0, w = w0: the discrete "
                   "counterpart of 'memdyn flow' (exit_time = exit_epoch*lr against its tau_loss).")
    flags = {"horizon": "--T"}

    def add_arguments(self, p):
        self.add_target(p)
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
        p.add_argument("--modes", type=int, default=4,
                       help="random cosines summed per cosine input, J of JMLR Fig. 4b (unstated there); the "
                            "target's mean power grows like J (default 4)")
        p.add_argument("--noise", default="brownian",
                       help="white-noise scaling: brownian x_k ~ N(0, 1/dt) or unit x_k ~ N(0, 1) per step, which makes "
                            "every loss dt times smaller (the scaling of the paper's Fig. 1b; default brownian)")
        p.add_argument("--input-scale", type=_number("--input-scale"), default=1.0,
                       help="the network reads this times the input, the target does not: with --noise unit and "
                            "--input-scale DT, the follow-up repository's data (inputs dt*randn) (default 1)")
        p.add_argument("--init", default="memdyn",
                       help="random start: memdyn (W = -I + 0.5 Z/sqrt(m)) or relu-orthogonal (the follow-up "
                            "repository's W = -P diag(relu(z)) P^T, about half its rates at 0; full W) (default memdyn)")
        p.add_argument("--seeds", type=int, default=1, help="networks trained at once, seeds SEED..SEED+n-1 (default 1)")
        p.add_argument("--seed", type=int, default=0, help="first seed: start, data and minibatch order (default 0)")
        p.add_argument("--delta", type=_number("--delta"), default=0.01, help="exit threshold on |L - L_0| (default 0.01)")
        p.add_argument("--a0", type=_floats("--a0"), metavar="A1,A2,..", help="start on (a0, w0): diagonal linear RNN, U = 1")
        p.add_argument("--w0", type=_floats("--w0"), metavar="W1,W2,..", help="initial decay rates, with --a0")
        p.add_argument("--points", type=int, default=200, help="log-spaced epochs to report (default 200)")
        p.add_argument("--checkpoint", metavar="FILE", default=None,
                       help="save the run to FILE (.npz) every 500 epochs; the same command run again resumes from it "
                            "and gives the same result as a run never stopped; removed when the run ends (default: none)")

    def run(self, args):
        from .api import train

        if args.samples.strip().lower() in ("inf", "infinity"):
            samples = None
        else:
            try:
                samples = int(args.samples)
            except ValueError:
                raise InputError("samples", f"expected a positive integer or 'inf', got {args.samples!r}") from None
        if args.points < 2:
            raise InputError("points", f"must be at least 2, got {args.points}")
        bar = self.progress_bar(total=args.epochs, desc="train", unit="epoch")
        try:
            result = train(args.rho, self.params(args), width=args.width, dt=args.dt, horizon=args.T,
                           activation=args.activation, recurrence=args.recurrence, optimizer=args.optimizer,
                           lr=args.lr, epochs=args.epochs, samples=samples, batch=args.batch, inputs=args.inputs,
                           modes=args.modes, noise=args.noise, input_scale=args.input_scale, init=args.init, seeds=args.seeds,
                           seed=args.seed, delta=args.delta, a0=args.a0, w0=args.w0, progress=bar.update,
                           checkpoint=args.checkpoint)
        finally:
            bar.close()
        return result.to_json(points=args.points)

    def show(self, out, args):
        sp, tr = out["spec"], out["train"]
        modes = f" ({tr['modes']}-mode)" if "modes" in tr else ""
        print(f"{sp['activation']} {sp['recurrence']} RNN, width {sp['width']}, dt {sp['dt']:g}, T {sp['T']:g}; "
              f"{tr['optimizer']} lr {tr['lr']:g}, {tr['samples'] or 'exact (inf)'} {tr['inputs']}{modes} samples, "
              f"seeds {out['seeds'][0]}..{out['seeds'][-1]}")
        epochs = out["epochs"]
        marks = sorted({0, *[e for e in (1, 10, 100, 1000, 10000, 100000) if e <= epochs[-1]], epochs[-1]})
        for e in marks:
            i = epochs.index(e) if e in epochs else min(range(len(epochs)), key=lambda k: abs(epochs[k] - e))
            print(f"  epoch {epochs[i]:>7d}  loss {out['loss'][i]:.6g}")
        ex = out["exit_epoch"]
        print(f"exit epoch (|L - L_0| > {out['delta']:g}): {ex}" + ("" if ex is None else f", epoch*lr = {out['exit_time']:.6g}"))


class Bench(Command):
    name = "bench"
    help = "solver benchmarks: work-precision, cost against plateau length, throughput"
    description = ("Diffrax solvers against SciPy (NumPy lowering, analytic Jacobian) and plain gradient descent on "
                   "exp(-t) + 0.5 exp(-(t-mu)^2/2) started on M*: work-precision, cost as the plateau grows, batched "
                   "throughput, compile times (see memdyn/studies/bench.py).")

    def add_arguments(self, p):
        g = p.add_mutually_exclusive_group()
        g.add_argument("--quick", dest="profile", action="store_const", const="quick", help="default: a few minutes")
        g.add_argument("--full", dest="profile", action="store_const", const="full",
                       help="more tolerances, batches up to 65536")
        p.set_defaults(profile="quick")
        p.add_argument("--latency", action="store_true",
                       help="instead: time to first answer in fresh processes (memdyn flow and a 64-trajectory sweep, "
                            "cold and warm cache) beside the SciPy script doing the same work")
        p.add_argument("--out", default=None, help="also write bench.md, bench.json and work_precision.png "
                                                   "(with --latency: latency.md, latency.json) here")

    def run(self, args):
        from .studies.bench import markdown, run_bench, write_bench, write_latency
        from .studies.output import prepare_output

        out = prepare_output(args.out, "out") if args.out else None
        with self.progress_bar(desc="bench") as bar:
            tick = lambda message: (bar.set_postfix_str(message), bar.update(1))  # noqa: E731
            if args.latency:
                from .studies import latency

                result = latency.measure(progress=tick)
                result["markdown"] = latency.markdown(result)
            else:
                result = run_bench(args.profile, progress=tick)
                result["markdown"] = markdown(result)
        if out is not None:
            (write_latency if args.latency else write_bench)(result, out)
        return result

    def show(self, out, args):
        print(out["markdown"])


class Reproduce(Command):
    name = "reproduce"
    help = "reproduce the paper's optimisation results into a Markdown report"
    description = ("On exp(-t) + 0.5 exp(-(t-mu)^2/2) started on M*: plateau sweeps and Theorem-20 fits for two w_min, "
                   "Figs. 2 and 3, Hessian/gradient scalings on M* (Props. 33-34), the two stages from a random start, "
                   "momentum (App. B), approximation, training, and a fidelity table (the paper's read-off values beside memdyn's "
                   "under the settings inferred for them, every gap over 25% explained); writes report.md, results.json "
                   "and PNG figures.")

    def add_arguments(self, p):
        g = p.add_mutually_exclusive_group()
        g.add_argument("--quick", dest="profile", action="store_const", const="quick",
                       help="plateau sweeps over memories 6..16 (default; a few minutes on 2 cores)")
        g.add_argument("--full", dest="profile", action="store_const", const="full",
                       help="memories 6..30, momentum sweep 8..22, Fig. 4 at the paper's size, sections 8-10")
        p.set_defaults(profile="quick")
        p.add_argument("--out", default="reproduce-out", help="output folder (default ./reproduce-out)")

    def run(self, args):
        from .studies.output import prepare_output
        from .studies.reproduce import reproduce, total_steps

        out = prepare_output(args.out, "out")
        bar = self.progress_bar(total=total_steps(), desc="reproduce")

        def progress(message):
            bar.set_postfix_str(message)
            bar.update(1)

        try:
            return reproduce(args.profile, out, progress=progress)
        finally:
            bar.close()

    def show(self, out, args):
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
                    print(f"  {name} {key}: s = {f['slope']:.3f} +- {f['slope_stderr']:.3f}, "
                          f"q = {f['q']:.2f} +- {f['q_stderr']:.2f}")
        print("  saddle exponents: " + ", ".join(f"{k} {v:.3f}" for k, v in sm["saddle_exponents"].items()))
        tr = sm["training"]
        c = tr["bridge_closest"]
        print(f"  bridge: reduced tau_loss {tr['bridge_tau_loss']:.6g}; RNN exit epoch*lr {c['exit_time']:.6g} "
              f"(gap {c['rel_gap']:+.2%}) at lr {c['lr']:g}, dt {c['dt']:g}")
        print("  section timings (s): " + ", ".join(f"{k} {v:.1f}" for k, v in sm["timing_s"].items()))


class Cache(Command):
    name = "cache"
    help = "the persistent caches (derivations, traced solves, compiled code): where, how big, clear them"
    description = ("memdyn keeps each formula's derivation, its traced solves (jax.export) and JAX's compiled code under "
                   "$MEMDYN_CACHE_DIR (default $XDG_CACHE_HOME/memdyn or ~/.cache/memdyn), so that a repeated call "
                   "neither derives, traces nor compiles. MEMDYN_CACHE=off (or memdyn --no-cache) turns them off.")

    def add_arguments(self, p):
        p.add_argument("action", choices=("info", "clear"), help="info: path, entries and sizes; clear: remove all")

    def run(self, args):
        from .core import cache

        return cache.info() if args.action == "info" else {"cleared": cache.clear()}

    def show(self, out, args):
        info = out.get("cleared", out)
        verb = "cleared" if "cleared" in out else "holds"
        print(f"{info['path']} ({'on' if info['enabled'] else 'off'}) {verb} {info['bytes'] / 1e6:.1f} MB:")
        for kind, k in info["kinds"].items():
            print(f"  {kind:12s} {k['entries']:6d} entries  {k['bytes'] / 1e6:8.2f} MB")


class Infer(Command):
    name = "infer"
    help = "which unstated settings of the paper fit its read-off hitting times (Figs. 2-3)"
    description = ("Search target (99) exp(-w* t) + c exp(-(t - mu)^2/(2 sigma^2)), starts with neuron 1 = "
                   "(--amplitude, w*) (amplitude 1: on M*; 0: nothing captured, off M*) and null neurons from "
                   "--null-min to --null-max, the threshold delta (the loss hitting time is the plateau's exit: J "
                   "delta below its level on M*) and the loss normalisation kappa "
                   "(the paper's loss = kappa J) with batched sweeps, and report the settings whose hitting times "
                   "are within 2 read-off sigmas of every point, best (least chi^2) first, or the best one and its "
                   "residuals when none is (memdyn/studies/infer.py).")
    flags = {"width": "--m"}

    def add_arguments(self, p):
        p.add_argument("--figure", choices=("fig2", "fig3"), default=None,
                       help="the paper's read-offs (fig2: exits at 1/omega = 10..15, m = 2; fig3: plateau and "
                            "separation times at 1/omega = 10..19, m = 10); or give --points")
        p.add_argument("--drop", type=_floats("--drop"), default=[], metavar="X1,..",
                       help="with --figure: leave out its read-offs at these memories 1/omega, e.g. 10 (default: none)")
        p.add_argument("--points", default=None, metavar="X:T,..",
                       help="your own read-offs: memory 1/omega and hitting time pairs, e.g. 10:14,11:25")
        p.add_argument("--quantity", choices=("tau_loss", "tau_param"), default="tau_loss",
                       help="what --points are: tau_loss (loss change, the plateau time) or tau_param (default tau_loss)")
        p.add_argument("--uncertainty", type=_number("--uncertainty"), default=0.2,
                       help="one-sigma relative read-off uncertainty of every point (default 0.2)")
        p.add_argument("--m", type=int, default=None, help="width (default: 2, or 10 with --figure fig3)")
        sp = self._space_defaults()
        for name, text in (("c", "bump amplitudes"), ("sigma", "bump widths"), ("w-star", "rates w* of the fitted "
                           "exponential"), ("amplitude", "neuron 1's start amplitudes (1: on M*, 0: off M*)"),
                          ("null-min", "smallest null rates"), ("delta", "thresholds on the paper's loss"),
                           ("normalisation", "kappa: the paper's loss is kappa J (0.5 for a loss with 1/2)"),
                           ("param-normalisation", "lambda: the paper's parameter distance is lambda ||theta - theta0|| "
                                                   "(1/sqrt(2m) for an RMS)")):
            default = sp[name.replace("-", "_")]
            p.add_argument(f"--{name}", type=_floats(f"--{name}"), default=list(default), metavar="V1,..",
                           help=f"{text} (default {','.join(f'{v:g}' for v in default)})")
        p.add_argument("--null-max", type=_number("--null-max"), default=sp["null_max"],
                       help=f"largest null rate for m > 2, the rates evenly spaced (default {sp['null_max']:g})")
        p.add_argument("--top", type=int, default=10, help="settings listed (default 10)")

    @staticmethod
    def _space_defaults() -> dict:
        import dataclasses

        from .studies.infer import Space

        return {f.name: f.default for f in dataclasses.fields(Space)}

    def run(self, args):
        from .studies.infer import PAPER_WIDTH, ReadOff, Space, infer, paper_points, solve_count

        if (args.figure is None) == (args.points is None):
            raise InputError("points", "give either --figure or --points", mentions=("figure",))
        if args.drop and not args.figure:
            raise InputError("drop", "needs --figure (it leaves out some of the paper's read-offs)")
        if args.figure:
            points = paper_points(args.figure, args.uncertainty, drop=args.drop)
        else:
            pairs = [item.split(":") for item in args.points.split(",") if item.strip()]
            try:
                if not pairs or any(len(pair) != 2 for pair in pairs):
                    raise ValueError
                xs, ts = zip(*[(float(x), float(t)) for x, t in pairs])
            except ValueError:
                raise InputError("points", f"expected X:T number pairs separated by commas, got {args.points!r}") from None
            points = (ReadOff("points", args.quantity, xs, ts, args.uncertainty),)
        m = args.m or PAPER_WIDTH.get(args.figure, 2)
        space = Space(width=m, c=tuple(args.c), sigma=tuple(args.sigma), w_star=tuple(args.w_star),
                      null_min=tuple(args.null_min), null_max=args.null_max, delta=tuple(args.delta),
                      normalisation=tuple(args.normalisation), amplitude=tuple(args.amplitude),
                      param_normalisation=tuple(args.param_normalisation))
        if not 1 <= args.top <= 1000:
            raise InputError("top", f"must be 1..1000, got {args.top}")
        with self.progress_bar(desc="infer", unit="solve", total=solve_count(space, points)) as bar:
            return infer(points, space, top=args.top, progress=bar.update)

    def show(self, out, args):
        print(f"{out['candidates']} candidate settings ({out['solves']} solves): {out['consistent']} consistent "
              f"with every point within 2 read-off sigmas")
        print(f"{'c':>6} {'sigma':>6} {'w*':>5} {'a1':>4} {'null_min':>8} {'delta':>7} {'kappa':>6} {'lambda':>6} "
              f"{'chi2':>9} {'max|r|/u':>9}")
        for s in out["settings"]:
            print(f"{s['c']:>6g} {s['sigma']:>6g} {s['w_star']:>5g} {s['amplitude']:>4g} {s['null_min']:>8g} {s['delta']:>7g} "
                  f"{s['normalisation']:>6g} {s.get('param_normalisation', 1.0):>6.3g} {s['chi2']:>9.3g} "
                  f"{s['max_abs_residual_sigmas']:>9.2f}"
                  + ("  consistent" if s["consistent"] else ""))
        print("best setting, point by point:")
        print(f"{'quantity':>9} {'1/omega':>8} {'paper':>10} {'memdyn':>10} {'gap':>8} {'r/u':>6}")
        for r in out["best"]["rows"]:
            print(f"{r['quantity']:>9} {r['x']:>8g} {r['paper']:>10.4g} {r['memdyn']:>10.4g}"
                  f"{'' if r['reached'] else '+'} {r['relative_gap']:>+8.1%} {r['residual_sigmas']:>+6.2f}")


COMMANDS: tuple[Command, ...] = (Loss(), Flow(), Sweep(), Bench(), Approx(), Derive(), Train(), Sharp(), Infer(),
                                 Reproduce(), Cache())


class _InterruptWatcher:
    """Ctrl-C ends a command within a few seconds, even inside a long compiled call.

    Python runs its SIGINT handler (KeyboardInterrupt) only when the main thread returns to the
    interpreter, which a long XLA call does not do. The C-level handler, though, writes the signal
    number to the wakeup fd at once: a watcher thread reads it, gives the main thread ``GRACE``
    seconds to unwind by itself (one line, exit 130, partial output removed), and otherwise removes the
    partial output, prints that line and ends the process with status 130. The cache needs nothing:
    its entries are only ever replaced atomically.

    Python cannot raise an exception out of a garbage-collector callback or a finaliser (JAX runs one
    on every collection): a KeyboardInterrupt that lands there is reported as "Exception ignored in
    ..." with a traceback and lost. While a command runs, ``sys.unraisablehook`` therefore takes such
    an interrupt silently and, ``REDELIVER`` seconds later, delivers it again to the main thread,
    where it unwinds as usual (were it to land in a callback again, the same happens again).
    """

    GRACE = 2.0
    REDELIVER = 0.02

    def __init__(self, name: str, cleanup):
        import signal
        import threading

        self.handled = False
        self._fd = None
        if threading.current_thread() is not threading.main_thread():
            return
        self._unraisable = sys.unraisablehook

        def redeliver(report):
            if issubclass(report.exc_type, KeyboardInterrupt):
                import _thread

                # From another thread a moment later: interrupting at once would raise in this hook.
                self._again = threading.Timer(self.REDELIVER, _thread.interrupt_main)
                self._again.start()
            else:
                self._unraisable(report)

        sys.unraisablehook = redeliver
        read, write = os.pipe()
        os.set_blocking(write, False)
        try:
            self._previous = signal.set_wakeup_fd(write)
        except ValueError:
            os.close(read)
            os.close(write)
            return
        self._fd = (read, write)

        def watch():
            while True:
                try:
                    data = os.read(read, 64)
                except OSError:
                    return
                if not data:
                    return
                if signal.SIGINT in data:
                    time.sleep(self.GRACE)
                    if not self.handled:
                        cleanup()
                        print(f"memdyn {name}: interrupted", file=sys.stderr, flush=True)
                        os._exit(130)

        threading.Thread(target=watch, name="memdyn-interrupt", daemon=True).start()

    def stop(self) -> None:
        if hasattr(self, "_unraisable"):
            sys.unraisablehook = self._unraisable
            del self._unraisable
        if getattr(self, "_again", None) is not None:  # the command ended first: nothing left to interrupt
            self._again.cancel()
        if self._fd is None:
            return
        import signal

        signal.set_wakeup_fd(self._previous)
        read, write = self._fd
        os.close(write)  # the watcher reads EOF and ends
        os.close(read)
        self._fd = None


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="memdyn", description="The curse of memory in linear RNNs: symbolic gradient flows, "
                     "integrated with Diffrax, measured against the theory (Li, Han, E & Li 2021/2022).")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    parser.add_argument("--no-cache", action="store_true",
                        help="neither read nor write the persistent caches (same as MEMDYN_CACHE=off; see 'memdyn cache')")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    for command in COMMANDS:
        p = sub.add_parser(command.name, help=command.help, description=command.description or command.help)
        command.add_arguments(p)
        if command.json_flag:
            p.add_argument("--json", action="store_true", help="print exactly one JSON object on stdout")
        p.set_defaults(_command=command)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from .version import __version__

        print(__version__)
        return 0
    if args.command is None:
        parser.print_help()
        return 2
    command: Command = args._command
    if args.no_cache:
        from .core import cache

        cache.disable()
    from .studies.output import remove_partial

    watcher = _InterruptWatcher(command.name, remove_partial)
    try:
        result = command.run(args)
        out = result.to_json() if hasattr(result, "to_json") else result
    except InputError as err:
        remove_partial()
        reason = err.reason
        for name in err.mentions:
            reason = re.sub(rf"(?<![\w-]){re.escape(name)}(?!\w)", command.flag(name), reason)
        print(f"memdyn {command.name}: error: {command.flag(err.argument)}: {reason}", file=sys.stderr)
        return 2
    except MemdynError as err:
        remove_partial()
        print(f"memdyn {command.name}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        watcher.handled = True
        remove_partial()
        print(f"memdyn {command.name}: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # a bug, not bad input: still one line, unless asked for the traceback
        remove_partial()
        if os.environ.get("MEMDYN_DEBUG"):
            raise
        print(f"memdyn {command.name}: internal error: {type(err).__name__}: {str(err).splitlines()[0][:200] if str(err) else ''} "
              "(a bug, please report it; MEMDYN_DEBUG=1 shows the traceback)", file=sys.stderr)
        return 1
    finally:
        watcher.stop()
    if args.json:
        print(json.dumps(out))
    else:
        command.show(out, args)
    return 0


def console() -> None:
    """The ``memdyn`` command: :func:`main`, then exit with its status. After an interrupt the
    process ends at once (``os._exit``): JAX may still be compiling on its own threads, and tearing
    the interpreter down under them can crash. A reader that closes the pipe early (``memdyn ... | head``)
    ends the process quietly with 141, as a SIGPIPE would, not with a traceback."""
    try:
        try:
            code = main()
        except SystemExit as stop:  # argparse's --help and usage errors: flushed below like any output
            code = stop.code
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        sys.exit(141)
    if code == 130:  # stdout is flushed above
        sys.stderr.flush()
        os._exit(130)
    sys.exit(code)


if __name__ == "__main__":
    console()
