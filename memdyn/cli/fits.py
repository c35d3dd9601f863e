"""The commands of the kernel itself: ``approx`` (best exponential sums) and ``derive`` (SymPy)."""

from __future__ import annotations

from .base import Command, floats, number


class Approx(Command):
    name = "approx"
    function = "approximate"
    help = "best L2 fits by width-m exponential sums, their L1/L2 errors, Jackson networks"
    description = (
        "For each width m: the best L2 fit of rho by sum_i a_i exp(-w_i t) (several starts, warm-started "
        "from width m-1, non-increasing in m; a fit that did not improve is flagged), its L2 and L1 errors "
        "(L1 = sup_t ||H_t - H_hat_t||), and with --beta the constructive network of JMLR Thm 10 with its "
        "error and bound."
    )

    def add_arguments(self, p):
        self.add_target(p)
        p.add_argument(
            "--widths", required=True, type=floats("--widths"), metavar="M1,M2,..", help="widths m, e.g. 1,2,4,8"
        )
        p.add_argument(
            "--alpha",
            type=int,
            default=self.default("alpha"),
            help=f"smoothness order of Thm 10 (default {self.default('alpha')})",
        )
        p.add_argument(
            "--beta",
            type=number("--beta"),
            default=None,
            help="decay rate of Thm 10; enables the Jackson network and bound (default off)",
        )
        p.add_argument(
            "--min-rate",
            type=number("--min-rate"),
            default=None,
            help="keep every fitted decay rate >= this (spectrum below -min-rate: the inverse theorem, Thm 11)",
        )
        p.add_argument(
            "--norm",
            choices=("l2", "l1", "sup"),
            default=None,
            help="best fits in this norm by the extended-precision engine (256-bit; widths to 40): l2 by "
            "variable projection and Newton, sup by a Remez-type iteration that equalises the error's "
            "extrema between its zeros (Hackbusch's variables) with its equioscillation certificate, "
            "l1 by Newton between the error's zeros (first-order residual stated). "
            "Default: the float64 L2 fits above",
        )

    def run(self, args):
        from ..api import approximate

        return approximate(
            args.rho,
            params=self.params(args),
            widths=args.widths,
            alpha=args.alpha,
            beta=args.beta,
            min_rate=args.min_rate,
            norm=args.norm,
            progress=True,
        )

    def show(self, out, args):
        if "norm" in out:
            return show_fits(out)
        jl, jb = out["jackson_l1_error"], out["jackson_bound"]
        print(f"{'m':>3} {'L2 error':>12} {'L1 error':>12}" + (f" {'Jackson L1':>12} {'bound':>12}" if jl else ""))
        for i, m in enumerate(out["m"]):
            flag = "" if out["improved"][i] else "  (optimiser did not improve on m-1: kept)"
            extra = f" {jl[i]:12.4e} {jb[i]:12.4e}" if jl else ""
            print(f"{m:>3} {out['l2_error'][i]:12.4e} {out['l1_error'][i]:12.4e}{extra}{flag}")
        if out.get("rate_best_l1"):
            print(
                f"slope of ln(L1 error) vs ln m: best fit {out['rate_best_l1']['slope']:.2f}"
                + (
                    f", Jackson {out['rate_jackson_l1']['slope']:.2f} (Thm 10: <= -alpha = -{out['alpha']})"
                    if out.get("rate_jackson_l1")
                    else ""
                )
            )
        if out.get("constants"):
            k = out["constants"]
            print(
                f"Thm 10 constants: alpha = {k['alpha']}, beta = {k['beta']:g}, gamma = {k['gamma']:.4g} "
                f"(sup on a grid); e^(beta t) rho^(j) decays: {k['decays']}"
            )


def show_fits(out):
    def num(x):
        return f"{x:12.4e}" if x is not None else f"{'inf':>12}"

    sup = out["norm"] == "sup"
    print(
        f"best {out['norm']} fits of rho = {out['rho']} ({out['precision_bits']}-bit arithmetic"
        + (f", rates >= {out['min_rate']:g}" if out["min_rate"] else "")
        + ")"
    )
    print(
        f"{'m':>3} {'L2 error':>12} {'L1 error':>12} {'sup error':>12}"
        + (f" {'lower bound':>12} {'alternation':>11}" if sup else "")
    )
    for r in out["fits"]:
        extra = ""
        if sup:
            n = len(r.get("alternation", []))
            extra = (
                f" {num(r.get('lower_bound'))} {n:>5}/{2 * r['m'] + 1:<5}"
                if r["converged"]
                else "  (no equioscillation reached)"
            )
        flag = "" if r["improved"] else "  (kept m-1)"
        print(f"{r['m']:>3} {num(r['l2_error'])} {num(r['l1_error'])} {num(r['sup_error'])}{extra}{flag}".rstrip())


class Derive(Command):
    name = "derive"
    function = "describe"
    help = "the loss, the Laplace transforms and the gradient-flow ODE, symbolically"
    description = (
        "Show what SymPy derived for rho: L[rho](w) (stable form), the moment, ||rho||^2, and for --m the "
        "loss and flow written out."
    )

    def add_arguments(self, p):
        self.add_target(p)
        p.add_argument("--m", type=int, default=None, help="also write out J and the flow for this width (1..8)")
        p.add_argument("--latex", action="store_true", help="LaTeX instead of plain text")

    def run(self, args):
        from ..api import describe

        return describe(args.rho, params=self.params(args), m=args.m, latex=args.latex)

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
