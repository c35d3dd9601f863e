"""The shape every command shares: its arguments, its run, its printout, and the flag parsers."""

from __future__ import annotations

import argparse
import json
import math
from typing import Any, ClassVar

from ..core.functions import DOCUMENTED_NAMES

EXAMPLE_RHO = "exp(-t) + 0.5*exp(-(t - mu)**2/2)"


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors and no abbreviated flags (``--m`` must never mean ``--min-rate``)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message):  # one line, exit 2 (argparse prints usage + message otherwise)
        self.exit(2, f"memdyn: error: {message} (see '{self.prog} --help')\n")


def floats(flag: str):
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


def number(flag: str):
    def parse(text: str) -> float:
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{flag}: expected a number, got {text!r}") from None
        if not math.isfinite(v):
            raise argparse.ArgumentTypeError(f"{flag}: must be finite, got {text!r}")
        return v

    return parse


def null(x, fmt: str = ".6g") -> str:
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
    function: ClassVar[str | None] = None
    """The ``memdyn.api`` function this command calls: its signature holds the defaults."""

    def default(self, name: str):
        """The default of the API function's keyword ``name`` (the one place defaults are stated)."""
        import inspect

        from .. import api

        value = inspect.signature(getattr(api, self.function)).parameters[name].default
        return list(value) if isinstance(value, tuple) else value

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
        p.add_argument(
            "--rho",
            required=True,
            metavar="EXPR",
            help=f'target kernel rho(t) as a formula in t, e.g. "{EXAMPLE_RHO}"; functions: '
            + " ".join(DOCUMENTED_NAMES)
            + "; constants pi, E; ^ or ** for powers",
        )
        p.add_argument(
            "--param",
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help="value of a parameter of the formula (repeat for several)",
        )

    def add_flow_options(self, p, *, param_map: bool = True) -> None:
        from ..core.limits import MAX_T1
        from ..core.maps import DESCRIPTIONS
        from ..core.solvers import SOLVERS

        d = self.default
        p.add_argument("--delta", required=True, type=number("--delta"), help="hitting-time threshold (> 0)")
        p.add_argument(
            "--t1",
            type=number("--t1"),
            default=d("t1"),
            help=f"horizon in training time, up to {MAX_T1:g}; a solve stops at its events, so a long "
            f"horizon costs nothing when they come first (default {d('t1'):g})",
        )
        p.add_argument("--solver", default=d("solver"), help=f"one of {', '.join(SOLVERS)} (default {d('solver')})")
        p.add_argument(
            "--rtol", type=number("--rtol"), default=d("rtol"), help=f"relative tolerance (default {d('rtol'):g})"
        )
        p.add_argument(
            "--atol", type=number("--atol"), default=d("atol"), help=f"absolute tolerance (default {d('atol'):g})"
        )
        p.add_argument(
            "--max-steps", type=int, default=d("max_steps"), help=f"step budget per solve (default {d('max_steps')})"
        )
        if param_map:
            p.add_argument(
                "--param-map",
                default=d("param_map"),
                metavar="NAME",
                help="train v with w = g(v): "
                + "; ".join(f"{k}: {v}" for k, v in DESCRIPTIONS.items())
                + f" (default {d('param_map')}). Starts stay decay rates; tau_param is measured in (a, v)",
            )

    @staticmethod
    def solver_options(args) -> dict:
        return {"solver": args.solver, "rtol": args.rtol, "atol": args.atol, "max_steps": args.max_steps}

    @staticmethod
    def params(args) -> dict[str, float]:
        from ..core.params import parse_params

        return parse_params(args.param)

    @staticmethod
    def sweep_values(text: str) -> tuple[str, list[float]]:
        """--sweep NAME=VALUES -> (NAME, values) (``memdyn.core.params.parse_range``)."""
        from ..core.params import parse_range

        return parse_range(text, argument="--sweep")


__all__ = ["Command", "EXAMPLE_RHO", "Parser", "floats", "number", "null"]
