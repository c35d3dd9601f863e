"""The commands of the studies: ``train``, ``infer``, ``bench``, ``reproduce``, and ``cache``."""

from __future__ import annotations

from ..errors import InputError
from .base import Command, floats, null, number


class Train(Command):
    name = "train"
    function = "train"
    help = "train a real discrete RNN (linear or tanh) on sampled inputs (JMLR Figs. 1, 4)"
    description = (
        "h_{k+1} = h_k + dt*sigma(W h_k + U x_k), y = c^T h_K, on white noise (x ~ N(0, 1/dt): increments of "
        "variance dt) or random cosines; the target is the exact discrete convolution dt*sum_j rho(j dt) "
        "x_{K-1-j}. Reports the loss per epoch and the exit epoch (first epoch with |L - L_0| > delta). With "
        "--a0/--w0 the network is the diagonal linear RNN with U = 1, c = a0, w = w0: the discrete "
        "counterpart of 'memdyn flow' (exit_time = exit_epoch*lr against its tau_loss)."
    )

    def add_arguments(self, p):
        self.add_target(p)
        p.add_argument("--width", type=int, default=16, help="hidden width (default 16; set by --a0 when given)")
        p.add_argument("--dt", type=number("--dt"), default=0.1, help="Euler step (default 0.1)")
        p.add_argument(
            "--horizon",
            type=number("--horizon"),
            default=6.4,
            help="sequence length T in time, a multiple of dt (default 6.4)",
        )
        p.add_argument("--activation", default="linear", help="linear or tanh (default linear)")
        p.add_argument("--recurrence", default="full", help="full W or diagonal W = -diag(w) (default full)")
        p.add_argument(
            "--optimizer", default="gd", help="gd (full batch), sgd (minibatches) or adam (optax) (default gd)"
        )
        p.add_argument(
            "--lr", type=number("--lr"), default=None, help="learning rate (default 0.01 for gd/sgd, 1e-3 for adam)"
        )
        p.add_argument("--epochs", type=int, default=2000, help="epochs (default 2000)")
        p.add_argument(
            "--samples",
            default=self.default("samples"),
            help="training sequences, or 'inf' for the exact white-noise expectation (linear only) (default 128)",
        )
        p.add_argument(
            "--batch", type=int, default=None, help="minibatch size (default 32 for sgd, full batch for adam)"
        )
        p.add_argument("--inputs", default="white", help="white or cosine (default white)")
        p.add_argument(
            "--modes",
            type=int,
            default=4,
            help="random cosines summed per cosine input, J of JMLR Fig. 4b (unstated there); the "
            "target's mean power grows like J (default 4)",
        )
        p.add_argument(
            "--noise",
            default="brownian",
            help="white-noise scaling: brownian x_k ~ N(0, 1/dt) or unit x_k ~ N(0, 1) per step, which makes "
            "every loss dt times smaller (the scaling of the paper's Fig. 1b; default brownian)",
        )
        p.add_argument(
            "--input-scale",
            type=number("--input-scale"),
            default=1.0,
            help="the network reads this times the input, the target does not: with --noise unit and "
            "--input-scale DT, the inputs are dt*randn (default 1)",
        )
        p.add_argument(
            "--init",
            default="memdyn",
            help="random start: memdyn (W = -I + 0.5 Z/sqrt(m)) or relu-orthogonal "
            "(W = -P diag(relu(z)) P^T, about half its rates at 0; full W) (default memdyn)",
        )
        p.add_argument(
            "--seeds", type=int, default=1, help="networks trained at once, seeds SEED..SEED+n-1 (default 1)"
        )
        p.add_argument("--seed", type=int, default=0, help="first seed: start, data and minibatch order (default 0)")
        p.add_argument(
            "--delta", type=number("--delta"), default=0.01, help="exit threshold on |L - L_0| (default 0.01)"
        )
        p.add_argument(
            "--a0", type=floats("--a0"), metavar="A1,A2,..", help="start on (a0, w0): diagonal linear RNN, U = 1"
        )
        p.add_argument("--w0", type=floats("--w0"), metavar="W1,W2,..", help="initial decay rates, with --a0")
        p.add_argument("--points", type=int, default=200, help="log-spaced epochs to report (default 200)")
        p.add_argument(
            "--checkpoint",
            metavar="FILE",
            default=None,
            help="save the run to FILE (.npz) every 500 epochs; the same command run again resumes from it "
            "and gives the same result as a run never stopped; removed when the run ends (default: none)",
        )

    def run(self, args):
        from ..api import train

        if str(args.samples).strip().lower() in ("inf", "infinity"):
            samples = None
        else:
            try:
                samples = int(args.samples)
            except ValueError:
                raise InputError("samples", f"expected a positive integer or 'inf', got {args.samples!r}") from None
        if args.points < 2:
            raise InputError("points", f"must be at least 2, got {args.points}")
        result = train(
            args.rho,
            params=self.params(args),
            width=args.width,
            dt=args.dt,
            horizon=args.horizon,
            activation=args.activation,
            recurrence=args.recurrence,
            optimizer=args.optimizer,
            lr=args.lr,
            epochs=args.epochs,
            samples=samples,
            batch=args.batch,
            inputs=args.inputs,
            modes=args.modes,
            noise=args.noise,
            input_scale=args.input_scale,
            init=args.init,
            seeds=args.seeds,
            seed=args.seed,
            delta=args.delta,
            a0=args.a0,
            w0=args.w0,
            checkpoint=args.checkpoint,
            progress=True,
        )
        return result.to_json(points=args.points)

    def show(self, out, args):
        sp, tr = out["spec"], out["train"]
        modes = f" ({tr['modes']}-mode)" if "modes" in tr else ""
        print(
            f"{sp['activation']} {sp['recurrence']} RNN, width {sp['width']}, dt {sp['dt']:g}, T {sp['T']:g}; "
            f"{tr['optimizer']} lr {tr['lr']:g}, {tr['samples'] or 'exact (inf)'} {tr['inputs']}{modes} samples, "
            f"seeds {out['seeds'][0]}..{out['seeds'][-1]}"
        )
        epochs = out["epochs"]
        marks = sorted({0, *[e for e in (1, 10, 100, 1000, 10000, 100000) if e <= epochs[-1]], epochs[-1]})
        for e in marks:
            i = epochs.index(e) if e in epochs else min(range(len(epochs)), key=lambda k: abs(epochs[k] - e))
            print(f"  epoch {epochs[i]:>7d}  loss {out['loss'][i]:.6g}")
        ex = out["exit_epoch"]
        print(
            f"exit epoch (|L - L_0| > {out['delta']:g}): {ex}"
            + ("" if ex is None else f", epoch*lr = {out['exit_time']:.6g}")
        )


class Bench(Command):
    name = "bench"
    function = "bench"
    help = "solver benchmarks: work-precision, cost against plateau length, throughput"
    description = (
        "Diffrax solvers against SciPy (NumPy lowering, analytic Jacobian), LSODA compiled (numbalsoda on a "
        "numba right-hand side, when the [peer] extra is installed; the report says when it is not) and plain "
        "gradient descent on exp(-t) + 0.5 exp(-(t-mu)^2/2) started on M*: work-precision, cost as the plateau "
        "grows, batched throughput, compile times (see memdyn.studies.bench)."
    )

    def add_arguments(self, p):
        g = p.add_mutually_exclusive_group()
        g.add_argument("--quick", dest="profile", action="store_const", const="quick", help="default: a few minutes")
        g.add_argument(
            "--full", dest="profile", action="store_const", const="full", help="more tolerances, batches up to 65536"
        )
        p.set_defaults(profile="quick")
        p.add_argument(
            "--latency",
            action="store_true",
            help="instead: time to first answer in fresh processes (memdyn flow and a 64-trajectory sweep, "
            "cold and warm cache) beside the SciPy script doing the same work",
        )
        p.add_argument(
            "--out",
            default=None,
            help="also write bench.md, bench.json and work_precision.png "
            "(with --latency: latency.md, latency.json) here",
        )

    def run(self, args):
        from ..api import bench

        return bench(profile=args.profile, latency=args.latency, out=args.out, progress=True)

    def show(self, out, args):
        print(out["markdown"])


class Reproduce(Command):
    name = "reproduce"
    function = "reproduce"
    help = "reproduce the paper's optimisation results into a Markdown report"
    description = (
        "On exp(-t) + 0.5 exp(-(t-mu)^2/2) started on M*: plateau sweeps and Theorem-20 fits for two w_min, "
        "Figs. 2 and 3, Hessian/gradient scalings on M* (Props. 33-34), the two stages from a random start, "
        "momentum (App. B), approximation, training, and a fidelity table (the paper's read-off values beside memdyn's "
        "under the settings inferred for them, every gap over 25% explained); writes report.md, results.json "
        "and PNG figures."
    )

    def add_arguments(self, p):
        g = p.add_mutually_exclusive_group()
        g.add_argument(
            "--quick",
            dest="profile",
            action="store_const",
            const="quick",
            help="plateau sweeps over memories 6..16 (default; a few minutes on 2 cores)",
        )
        g.add_argument(
            "--full",
            dest="profile",
            action="store_const",
            const="full",
            help="memories 6..30, momentum sweep 8..22, Fig. 4 at the paper's size, sections 8-10",
        )
        p.set_defaults(profile="quick")
        p.add_argument("--out", default="reproduce-out", help="output folder (default ./reproduce-out)")

    def run(self, args):
        from ..api import reproduce

        return reproduce(profile=args.profile, out=args.out, progress=True)

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
                    print(
                        f"  {name} {key}: s = {f['slope']:.3f} +- {f['slope_stderr']:.3f}, "
                        f"q = {f['q']:.2f} +- {f['q_stderr']:.2f}"
                    )
        print("  saddle exponents: " + ", ".join(f"{k} {v:.3f}" for k, v in sm["saddle_exponents"].items()))
        tr = sm["training"]
        c = tr["bridge_closest"]
        print(
            f"  bridge: reduced tau_loss {tr['bridge_tau_loss']:.6g}; RNN exit epoch*lr {c['exit_time']:.6g} "
            f"(gap {c['rel_gap']:+.2%}) at lr {c['lr']:g}, dt {c['dt']:g}"
        )
        print("  section timings (s): " + ", ".join(f"{k} {v:.1f}" for k, v in sm["timing_s"].items()))


class Cache(Command):
    name = "cache"
    help = "the persistent caches (derivations, traced solves, compiled code): where, how big, clear them"
    description = (
        "memdyn keeps each formula's derivation, its traced solves (jax.export) and JAX's compiled code under "
        "$MEMDYN_CACHE_DIR (default $XDG_CACHE_HOME/memdyn or ~/.cache/memdyn), so that a repeated call "
        "neither derives, traces nor compiles. MEMDYN_CACHE=off (or memdyn --no-cache) turns them off."
    )

    def add_arguments(self, p):
        p.add_argument("action", choices=("info", "clear"), help="info: path, entries and sizes; clear: remove all")

    def run(self, args):
        from ..api import cache_info, clear_cache

        return cache_info() if args.action == "info" else {"cleared": clear_cache()}

    def show(self, out, args):
        info = out.get("cleared", out)
        verb = "cleared" if "cleared" in out else "holds"
        print(f"{info['path']} ({'on' if info['enabled'] else 'off'}) {verb} {info['bytes'] / 1e6:.1f} MB:")
        for kind, k in info["kinds"].items():
            print(f"  {kind:12s} {k['entries']:6d} entries  {k['bytes'] / 1e6:8.2f} MB")


class Infer(Command):
    name = "infer"
    function = "infer"
    help = "which unstated settings of the paper fit its read-off hitting times (Figs. 2-3)"
    description = (
        "Search target (99) exp(-w* t) + c exp(-(t - mu)^2/(2 sigma^2)), starts with neuron 1 = "
        "(--amplitude, w*) (amplitude 1: on M*; 0: nothing captured, off M*) and null neurons from "
        "--null-min to --null-max, the threshold delta (the loss hitting time is the plateau's exit: J "
        "delta below its level on M*) and the loss normalisation kappa "
        "(the paper's loss = kappa J) with batched sweeps, and report the settings whose hitting times "
        "are within 2 read-off sigmas of every point, best (least chi^2) first, or the best one and its "
        "residuals when none is (memdyn.studies.infer)."
    )

    def add_arguments(self, p):
        p.add_argument(
            "--figure",
            choices=("fig2", "fig3"),
            default=None,
            help="the paper's read-offs (fig2: exits at 1/omega = 10..15, m = 2; fig3: plateau and "
            "separation times at 1/omega = 10..19, m = 10); or give --points",
        )
        p.add_argument(
            "--drop",
            type=floats("--drop"),
            default=[],
            metavar="X1,..",
            help="with --figure: leave out its read-offs at these memories 1/omega, e.g. 10 (default: none)",
        )
        p.add_argument(
            "--points",
            default=None,
            metavar="X:T,..",
            help="your own read-offs: memory 1/omega and hitting time pairs, e.g. 10:14,11:25",
        )
        p.add_argument(
            "--quantity",
            choices=("tau_loss", "tau_param"),
            default="tau_loss",
            help="what --points are: tau_loss (loss change, the plateau time) or tau_param (default tau_loss)",
        )
        p.add_argument(
            "--uncertainty",
            type=number("--uncertainty"),
            default=0.2,
            help="one-sigma relative read-off uncertainty of every point (default 0.2)",
        )
        p.add_argument("--m", type=int, default=None, help="width (default: 2, or 10 with --figure fig3)")
        sp = self._space_defaults()
        for name, text in (
            ("c", "bump amplitudes"),
            ("sigma", "bump widths"),
            ("w-star", "rates w* of the fitted exponential"),
            ("amplitude", "neuron 1's start amplitudes (1: on M*, 0: off M*)"),
            ("null-min", "smallest null rates"),
            ("delta", "thresholds on the paper's loss"),
            ("normalisation", "kappa: the paper's loss is kappa J (0.5 for a loss with 1/2)"),
            (
                "param-normalisation",
                "lambda: the paper's parameter distance is lambda ||theta - theta0|| (1/sqrt(2m) for an RMS)",
            ),
        ):
            default = sp[name.replace("-", "_")]
            p.add_argument(
                f"--{name}",
                type=floats(f"--{name}"),
                default=list(default),
                metavar="V1,..",
                help=f"{text} (default {','.join(f'{v:g}' for v in default)})",
            )
        p.add_argument(
            "--null-max",
            type=number("--null-max"),
            default=sp["null_max"],
            help=f"largest null rate for m > 2, the rates evenly spaced (default {sp['null_max']:g})",
        )
        p.add_argument("--top", type=int, default=10, help="settings listed (default 10)")

    @staticmethod
    def _space_defaults() -> dict:
        import dataclasses

        from ..studies.infer import Space

        return {f.name: f.default for f in dataclasses.fields(Space)}

    def run(self, args):
        from ..api import infer

        points = None
        if args.points is not None:
            try:
                points = [tuple(float(v) for v in item.split(":")) for item in args.points.split(",") if item.strip()]
                if not points or any(len(pair) != 2 for pair in points):
                    raise ValueError
            except ValueError:
                raise InputError(
                    "points", f"expected X:T number pairs separated by commas, got {args.points!r}"
                ) from None
        space = {name: getattr(args, name) for name in self._space_defaults() if hasattr(args, name)}
        return infer(
            figure=args.figure,
            points=points,
            quantity=args.quantity,
            uncertainty=args.uncertainty,
            drop=args.drop,
            m=args.m,
            space=space,
            top=args.top,
            progress=True,
        )

    def show(self, out, args):
        print(
            f"{out['candidates']} candidate settings ({out['solves']} solves): {out['consistent']} consistent "
            f"with every point within 2 read-off sigmas"
        )
        print(
            f"{'c':>6} {'sigma':>6} {'w*':>5} {'a1':>4} {'null_min':>8} {'delta':>7} {'kappa':>6} {'lambda':>6} "
            f"{'chi2':>9} {'max|r|/u':>9}"
        )
        for s in out["settings"]:
            print(
                f"{s['c']:>6g} {s['sigma']:>6g} {s['w_star']:>5g} {s['amplitude']:>4g} {s['null_min']:>8g} {s['delta']:>7g} "
                f"{s['normalisation']:>6g} {s.get('param_normalisation', 1.0):>6.3g} {null(s['chi2'], '.3g'):>9} "
                f"{null(s['max_abs_residual_sigmas'], '.2f'):>9}" + ("  consistent" if s["consistent"] else "")
            )
        if out["unresolved"]:
            print(f"{out['unresolved']} setting(s) unresolved: a solve ran out of steps (chi2 null)")
        print("best setting, point by point:")
        print(f"{'quantity':>9} {'1/omega':>8} {'paper':>10} {'memdyn':>10} {'gap':>8} {'r/u':>6}")
        for r in out["best"]["rows"]:
            print(
                f"{r['quantity']:>9} {r['x']:>8g} {r['paper']:>10.4g} {null(r['memdyn'], '.4g'):>10}"
                f"{'' if r['reached'] or r['memdyn'] is None else '+'} {null(r['relative_gap'], '+.1%'):>8} "
                f"{null(r['residual_sigmas'], '+.2f'):>6}"
            )
