"""The commands of the flow: ``loss``, ``flow``, ``sweep`` and ``sharp``."""

from __future__ import annotations

import os
import sys

from ..errors import InputError
from .base import Command, floats, null


class Loss(Command):
    name = "loss"
    function = "evaluate"
    help = "loss J(a, w) and its gradient for rho_hat = sum a_i exp(-w_i t)"
    description = "Loss J = int (sum_i a_i e^{-w_i t} - rho(t))^2 dt and its gradient."

    def add_arguments(self, p):
        self.add_target(p)
        p.add_argument(
            "--a0",
            required=True,
            type=floats("--a0"),
            metavar="A1,A2,..",
            help="amplitudes of the point theta = (a0, w0) (use --a0=-1,2 for a leading minus)",
        )
        p.add_argument("--w0", required=True, type=floats("--w0"), metavar="W1,W2,..", help="decay rates (> 0)")
        p.add_argument("--hessian", action="store_true", help="also print the 2m x 2m Hessian")

    def run(self, args):
        from ..api import evaluate

        return evaluate(args.rho, params=self.params(args), a0=args.a0, w0=args.w0, hessian=args.hessian)

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
    function = "flow"
    help = "integrate the gradient flow and report both hitting times (JMLR Thm 20)"
    description = (
        "tau_param = first tau with ||theta - theta0|| > delta; tau_loss = first tau with |J - J0| > delta; "
        "null when not reached by t1."
    )

    def add_arguments(self, p):
        self.add_target(p)
        p.add_argument("--a0", required=True, type=floats("--a0"), metavar="A1,A2,..", help="initial amplitudes")
        p.add_argument("--w0", required=True, type=floats("--w0"), metavar="W1,W2,..", help="initial decay rates (> 0)")
        self.add_flow_options(p)

    def run(self, args):
        from ..api import flow

        return flow(
            args.rho,
            params=self.params(args),
            a0=args.a0,
            w0=args.w0,
            delta=args.delta,
            t1=args.t1,
            param_map=args.param_map,
            **self.solver_options(args),
        )

    def show(self, out, args):
        for key in ("tau_param", "tau_loss", "loss_initial", "loss_final", "t1", "t_end", "solver", "steps", "status"):
            print(f"{key:12s} = {out[key]}")  # a status other than ok: its advice goes to stderr


class Sweep(Command):
    name = "sweep"
    function = "sweep"
    help = "hitting times over a list of parameter values (and starts), batched"
    description = (
        "The flow of 'memdyn flow' over --sweep NAME=V1,V2,.. (x several starts), solved as one compiled, "
        "vmapped call; fits ln tau against the memory 1/omega (NAME itself, or 1/NAME for a parameter "
        "named omega) beside Theorem 20's slope w_min."
    )
    flags = {"param": "--sweep", "values": "--sweep", "starts": "--a0"}

    def add_arguments(self, p):
        self.add_target(p)
        p.add_argument(
            "--sweep",
            required=True,
            action="append",
            metavar="NAME=VALUES",
            help="a swept parameter and its values: V1,V2,.., START:STOP:STEP (stop included: mu=8:11:0.5 "
            "is 8, 8.5, .., 11) or geom(START,STOP,N) (N values, geometric). Give it again for a "
            "grid (the Cartesian product; the first is the memory axis, the Theorem-20 fits need "
            "it alone)",
        )
        p.add_argument(
            "--init",
            choices=("explicit", "mstar", "random"),
            default="explicit",
            help="explicit: --a0/--w0; mstar: a point of the invariant set M* built from the formula's "
            "exponential terms (--m, --null-rates, --groups); random: the JMLR bounded start "
            "(--m, --seeds, --w-range, --a-range, --beta). Default explicit",
        )
        p.add_argument("--a0", type=floats("--a0"), metavar="A1,A2,..", help="initial amplitudes (explicit)")
        p.add_argument("--w0", type=floats("--w0"), metavar="W1,W2,..", help="initial decay rates (explicit)")
        p.add_argument("--m", type=int, help="width (mstar, random)")
        p.add_argument(
            "--null-rates",
            type=floats("--null-rates"),
            default=[],
            metavar="R1,..",
            help="decay rates of the null neurons (mstar)",
        )
        p.add_argument(
            "--groups",
            type=floats("--groups"),
            default=None,
            metavar="K1,..",
            help="neurons per exponential term (mstar; default 1 each)",
        )
        d = self.default
        p.add_argument(
            "--seeds", type=int, default=d("seeds"), help=f"number of random starts (random; default {d('seeds')})"
        )
        p.add_argument(
            "--w-range",
            type=floats("--w-range"),
            default=d("w_range"),
            metavar="WL,WR",
            help="w0 ~ U[WL, WR] (random; default " + ",".join(f"{v:g}" for v in d("w_range")) + ")",
        )
        p.add_argument(
            "--a-range",
            type=floats("--a-range"),
            default=d("a_range"),
            metavar="AL,AR",
            help="a0' ~ U[AL, AR] (random; default " + ",".join(f"{v:g}" for v in d("a_range")) + ")",
        )
        p.add_argument(
            "--beta", type=float, default=d("beta"), help=f"a0 = a0' m^-beta (random; default {d('beta'):g})"
        )
        self.add_flow_options(p)
        p.add_argument(
            "--chunk",
            type=int,
            default=None,
            help="elements per compiled call (default: all, or 64 above 64: a batch waits for its slowest "
            "element, and on a CPU a larger batch costs more per element)",
        )
        p.add_argument(
            "--devices",
            default=self.default("devices"),
            metavar="all|N",
            help="spread the chunks over N local devices (GPUs; CPU devices with XLA_FLAGS="
            "--xla_force_host_platform_device_count=N), each running its own batch; 'all' for every "
            "one (default 1)",
        )
        p.add_argument(
            "--coordinator",
            default=None,
            metavar="HOST:PORT",
            help="run as one process of a jax.distributed cluster (or set JAX_COORDINATOR_ADDRESS): each "
            "process solves its share of the chunks into --out DIR, a folder all of them reach, and "
            "process 0 prints and writes the whole table (default: one process)",
        )
        p.add_argument(
            "--processes", type=int, default=None, metavar="N", help="processes in the cluster (or JAX_NUM_PROCESSES)"
        )
        p.add_argument(
            "--process-id", type=int, default=None, metavar="I", help="this process's id, 0..N-1 (or JAX_PROCESS_ID)"
        )
        p.add_argument(
            "--out",
            default=None,
            metavar="DIR",
            help="keep each finished chunk in DIR (written atomically) and the final table there "
            "(results.json, results.csv); rerun with the same arguments to resume a killed run "
            "(default: keep nothing)",
        )

    def run(self, args):
        import jax

        from ..api import distributed, sweep

        axes = [self.sweep_values(text) for text in args.sweep]
        name, values = axes[0]
        if args.coordinator or args.processes is not None or os.environ.get("JAX_COORDINATOR_ADDRESS"):
            if not args.out:
                raise InputError(
                    "out", "a sweep over several processes needs --out DIR, a folder every process reaches"
                )
            distributed(args.coordinator, args.processes, args.process_id)
        result = sweep(
            args.rho,
            name,
            values,
            params=self.params(args),
            grid=axes[1:],
            init=args.init,
            a0=args.a0,
            w0=args.w0,
            m=args.m,
            null_rates=args.null_rates,
            groups=None if args.groups is None else [int(g) for g in args.groups],
            seeds=args.seeds,
            w_range=args.w_range,
            a_range=args.a_range,
            beta=args.beta,
            delta=args.delta,
            t1=args.t1,
            param_map=args.param_map,
            chunk=args.chunk,
            devices=args.devices,
            out=args.out,
            progress=True,
            **self.solver_options(args),
        )
        if jax.process_index() > 0:  # process 0 prints and writes the table
            print(
                f"memdyn sweep: process {jax.process_index()} of {jax.process_count()} done; process 0 writes "
                f"the table to {args.out}",
                file=sys.stderr,
            )
            raise SystemExit(0)
        return result

    def show(self, out, args):
        axes = list(out.get("axes", {}))
        print(
            f"{out['param']:>10}"
            + "".join(f" {a:>10}" for a in axes)
            + f" {'1/omega':>9} {'tau_param':>14} {'tau_loss':>14} {'steps':>6}  status"
        )
        for i, (v, mu, tp, tl, st, status) in enumerate(
            zip(out["values"], out["memory"], out["tau_param"], out["tau_loss"], out["steps"], out["status"])
        ):
            print(
                f"{v:>10g}"
                + "".join(f" {out['axes'][a][i]:>10g}" for a in axes)
                + f" {mu:>9g} {null(tp):>14} {null(tl):>14} {st:>6}  {status}"
            )
        for key in ("tau_param", "tau_loss"):
            fit = out["fit"][key]["plain"] if out["fit"][key] else None
            if fit:
                print(
                    f"slope of ln {key} vs 1/omega: {fit['slope']:.4f} +- {fit['slope_stderr']:.4f} "
                    f"(Theorem 20 bound: >= w_min = {out['fit'][key]['bound_slope']:g})"
                )
        print(f"compile {out['timing']['compile_s']:.2f} s, run {out['timing']['run_s']:.3f} s")


class Sharp(Command):
    name = "sharp"
    function = "sharp"
    help = "sharp escape times from the slow dynamics on M*, beside measured tau_loss"
    description = (
        "Reduce the flow near M* to its slow system (memdyn/theory/sharp.py): the fitted neurons relax, the "
        "null neurons' amplitudes and rates (any number of them) drift in the metric the slow manifold "
        "induces; tau_slow is its time to capture delta of the loss, tau_adiabatic the same with the null "
        "amplitudes relaxed too, and with one null neuron tau_lead = 1/(F phi'^2) (Laplace's rule) and, "
        "with --gaussian, the 1/mu series, all beside the measured tau_loss with relative errors."
    )
    flags = {"param": "--sweep", "values": "--sweep"}

    def add_arguments(self, p):
        self.add_target(p)
        p.add_argument(
            "--sweep",
            required=True,
            metavar="NAME=VALUES",
            help="the memory parameter and its values: V1,V2,.., START:STOP:STEP (stop included) or geom(START,STOP,N)",
        )
        p.add_argument(
            "--a0",
            required=True,
            type=floats("--a0"),
            metavar="A1,A2,..",
            help="start on M*: fitted amplitudes and at least one 0 (the null neurons)",
        )
        p.add_argument("--w0", required=True, type=floats("--w0"), metavar="W1,W2,..", help="initial decay rates")
        p.add_argument(
            "--gaussian",
            type=floats("--gaussian"),
            default=None,
            metavar="C,SIGMA",
            help="the bump is C exp(-(t - NAME)^2/(2 SIGMA^2)): also print the 1/mu series (one null neuron)",
        )
        self.add_flow_options(p, param_map=False)  # the sharp reduction is derived for the plain parameterisation

    def run(self, args):
        from ..api import sharp

        name, values = self.sweep_values(args.sweep)
        return sharp(
            args.rho,
            name,
            values,
            params=self.params(args),
            a0=args.a0,
            w0=args.w0,
            delta=args.delta,
            t1=args.t1,
            gaussian=args.gaussian,
            progress=True,
            **self.solver_options(args),
        )

    def show(self, out, args):
        pct = lambda x: "" if x is None else f"({x:+.1%})"  # noqa: E731
        keys = (
            ["slow", "adiabatic"]
            + (["lead"] if "tau_lead" in out["rows"][0] else [])
            + (["series0", "series1"] if out["gaussian"] is not None else [])
        )
        names = {
            "slow": "tau_slow",
            "adiabatic": "tau_adiabatic",
            "lead": "tau_lead",
            "series0": "series O(1)",
            "series1": "series O(1/mu)",
        }
        nulls = [w for a, w in zip(out["a0"], out["w0"]) if a == 0]
        print(f"null neurons at w = {', '.join(f'{w:g}' for w in nulls)}; delta = {out['delta']:g}")
        print((f"{'1/omega':>8} {'tau_loss':>12}" + "".join(f" {names[k]:>14} {'':9}" for k in keys)).rstrip())
        for r in out["rows"]:
            print(
                (
                    f"{r['memory']:>8g} {null(r['tau_loss']):>12}"
                    + "".join(f" {null(r['tau_' + k]):>14} {pct(r['err_' + k]):9}" for k in keys)
                ).rstrip()
            )
        for r in out["rows"]:
            for key, why in r.get("unavailable", {}).items():
                print(f"1/omega = {r['memory']:g}: no {key}: {why}")
