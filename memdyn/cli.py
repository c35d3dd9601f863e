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


def build_parser() -> argparse.ArgumentParser:
    from .integrate import SOLVERS, SolverConfig

    d = SolverConfig()
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
    p.add_argument("--delta", required=True, type=_number("--delta"), help="hitting-time threshold (> 0)")
    p.add_argument("--t1", type=_number("--t1"), default=1e8, help="horizon in training time, up to 1e15 (default 1e8)")
    p.add_argument("--solver", default=d.solver, help=f"one of {', '.join(SOLVERS)} (default {d.solver})")
    p.add_argument("--rtol", type=_number("--rtol"), default=d.rtol, help=f"relative tolerance (default {d.rtol:g})")
    p.add_argument("--atol", type=_number("--atol"), default=d.atol, help=f"absolute tolerance (default {d.atol:g})")
    p.add_argument("--max-steps", type=int, default=d.max_steps, help=f"step budget per solve (default {d.max_steps})")
    _add_json(p)

    p = sub.add_parser("derive", help="the loss, the Laplace transforms and the gradient-flow ODE, symbolically",
                       description="Show what SymPy derived for rho: L[rho](w) (stable form), the moment, "
                                   "||rho||^2, and for --m the loss and flow written out.")
    _add_target(p)
    p.add_argument("--m", type=int, default=None, help="also write out J and the flow for this width")
    p.add_argument("--latex", action="store_true", help="LaTeX instead of plain text")
    _add_json(p)

    p = sub.add_parser("reproduce", help="reproduce the plateau sweep into a Markdown report with figures",
                       description="Plateau sweep over memories 1/omega on exp(-t) + 0.5 exp(-(t-mu)^2/2), "
                                   "m = 2 started on M*; writes report.md, results.json and PNG figures.")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--quick", dest="profile", action="store_const", const="quick",
                   help="memories 6..16 (default; about a minute on 2 cores)")
    g.add_argument("--full", dest="profile", action="store_const", const="full", help="memories 6..30")
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
    from .integrate import SolverConfig

    config = SolverConfig(solver=args.solver, rtol=args.rtol, atol=args.atol, max_steps=args.max_steps)
    result = flow(args.rho, _params(args.param), args.a0, args.w0, delta=args.delta, t1=args.t1, config=config)
    return result.to_json()


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

    from .reproduce import PROFILES, reproduce

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise InputError("--out", f"{out} exists and is not a folder")
    bar = tqdm(total=len(PROFILES[args.profile].memories) + 1, desc="reproduce", file=sys.stderr,
               disable=None, leave=False)

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
    elif command == "reproduce":
        print(f"wrote {', '.join(out['files'])} to {out['out']}")
        for mu, r in zip(out["memories"], out["results"]):
            print(f"  1/omega = {mu:5g}: tau_param = {r['tau_param']}, tau_loss = {r['tau_loss']} ({r['status']})")
        fit = out["fits"]["tau_param"]["plain"]
        if fit:
            print(f"  slope of ln tau_param vs 1/omega: {fit['slope']:.4f} +- {fit['slope_stderr']:.4f} "
                  f"(bound: w_min = {out['setting']['w_min']})")


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
    handlers = {"loss": _cmd_loss, "flow": _cmd_flow, "derive": _cmd_derive, "reproduce": _cmd_reproduce}
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
