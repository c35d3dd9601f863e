"""Formulas are parsed as mathematics and never executed; bad ones are refused by name."""

import pytest
import sympy as sp

import memdyn
from memdyn.core.formula import T, parse_kernel, parse_params
from memdyn.errors import InputError


def test_parses_the_target_families():
    cases = {
        "exp(-t) + 0.5*exp(-(t - 1/omega)**2/2)": {"omega": 0.1},
        "(1 + t/s)^(-p)": {"s": 2.0, "p": 1.5},
        "exp(-a*t)*cos(b*t)": {"a": 1.0, "b": 3.0},
        "airyai(2.25*(t - 3))": {},
        "2*exp(-t) - 3*exp(-2*t) + t*exp(-t)*sin(t)": {},
    }
    for formula, params in cases.items():
        k = parse_kernel(formula, params)
        assert k.expr.has(T)
        assert k.param_names == tuple(sorted(params))


def test_numbers_are_exact_and_powers_both_ways():
    k = parse_kernel("0.1*t^2 + 0.1*t**2")
    assert k.expr == sp.Rational(1, 5) * T**2


def test_parameter_signs_become_assumptions():
    k = parse_kernel("exp(-c*t)", {"c": [0.5, 2.0]})
    assert k.params[0].is_positive
    k = parse_kernel("c*exp(-t)", {"c": -1.0})
    assert k.params[0].is_negative


@pytest.mark.parametrize(
    "formula, fragment",
    [
        ("__import__('os').system('echo pwned')", "plain function names"),
        ("t.__class__", "Attribute"),
        ("(lambda: t)()", "plain function names"),
        ("lambda x: x", "Lambda"),
        ("'exp(-t)'", "not a number"),
        ("[t, t]", "List"),
        ("t[0]", "Subscript"),
        ("exp(-t, x=1)", "positional"),
        ("exp(*t)", "positional"),
        ("t if t else 1", "IfExp"),
        ("t == 1", "Compare"),
        ("foo(t)", "unknown function 'foo'"),
        ("exp(-x*t)", "unknown symbol 'x'"),
        ("exp(-t", "not a formula"),
        ("", "empty"),
        ("exp(-t)/0", "division by zero"),
        ("t**100000", "larger than 1000"),
        ("exp", "is a function"),
        ("True", "not a number"),
    ],
)
def test_refuses_what_is_not_mathematics(formula, fragment):
    with pytest.raises(InputError) as err:
        parse_kernel(formula)
    assert err.value.argument == "rho"
    assert fragment in str(err.value)
    assert "\n" not in str(err.value)


def test_parameter_errors_name_the_parameter():
    with pytest.raises(InputError, match=r"param z: 'z' does not appear"):
        parse_kernel("exp(-t)", {"z": 1.0})
    with pytest.raises(InputError, match=r"param c: value must be a finite number"):
        parse_kernel("exp(-c*t)", {"c": float("nan")})
    with pytest.raises(InputError, match="expected NAME=VALUE"):
        parse_params(["c"])
    with pytest.raises(InputError, match=r"param c: value must be finite"):
        parse_params(["c=inf"])
    with pytest.raises(InputError, match="given twice"):
        parse_params(["c=1", "c=2"])
    assert parse_params(["omega=0.1", "c=-2"]) == {"omega": 0.1, "c": -2.0}


@pytest.mark.parametrize(
    "formula, fragment",
    [
        ("exp(t)", "not square-integrable"),
        ("(1 + t)^(-0.5)", "not square-integrable"),
        ("1/t", "not finite at t = 0"),
        ("t^(-0.5)*exp(-t)", "not finite at t = 0"),
    ],
)
def test_refuses_kernels_whose_loss_is_infinite(formula, fragment):
    tg = memdyn.target(formula)
    with pytest.raises(InputError, match=fragment):
        tg.data()


def test_missing_parameter_value_at_evaluation():
    tg = memdyn.target("exp(-c*t)", {"c": 1.0})
    with pytest.raises(InputError, match=r"param c"):
        tg.data({})
    with pytest.raises(InputError, match="another sign"):
        tg.data({"c": -1.0})


def test_a_deadline_that_lands_in_a_finaliser_still_interrupts_the_work():
    """Python cannot raise out of a garbage-collector callback or a finaliser: the Timeout raised there is reported
    as unraisable and lost (it happens in a weakref.finalize). The budget sets its timer again until the Timeout
    lands in the work itself; the lost one is not reported, and afterwards the hooks are the ones before."""
    import gc
    import signal
    import sys
    import time

    from memdyn.core.budget import Budget, Timeout, time_limit

    def slow_callback(phase, info):  # the deadline (20 ms) passes while this runs (200 ms)
        end = time.monotonic() + 0.2
        while time.monotonic() < end:
            pass

    reported = []
    before_hook, before_alarm = sys.unraisablehook, signal.getsignal(signal.SIGALRM)
    sys.unraisablehook = reported.append
    gc.callbacks.append(slow_callback)
    start = work = time.monotonic()
    try:
        with pytest.raises(Timeout):
            with time_limit(Budget(0.02)):
                gc.collect()  # the first Timeout is lost in the callback
                gc.callbacks.remove(slow_callback)
                work = time.monotonic()  # (a full collection in a large test process may itself take a while)
                while time.monotonic() - start < 5.0:  # the work, which the deadline must end
                    pass
        took = time.monotonic() - work
        assert sys.unraisablehook == reported.append and signal.getsignal(signal.SIGALRM) == before_alarm
    finally:
        if slow_callback in gc.callbacks:
            gc.callbacks.remove(slow_callback)
        sys.unraisablehook = before_hook
    assert took < 1.0, f"the work ran {took:.1f} s after the lost deadline (re-armed every 50 ms)"
    assert reported == []
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
