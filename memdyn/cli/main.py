"""``memdyn``: the command line, a thin shell over ``memdyn.api``.

Each command is one small object (``memdyn.cli.base``): its arguments, its run (one call of the
API function of the same name, with the same defaults) and its human printout. Every command that
computes takes ``--json`` and then prints exactly one JSON object on stdout.

Exit statuses: 0 an answer; 2 bad input (one line naming the flag, nothing written);
3 a result that is not an answer (a status other than ``ok``: the result is still printed, and its
advice goes to stderr); 74 a file system error (a full disk: what was written before stays
intact); 1 an internal error (a bug); 130 interrupted (Ctrl-C), 143 terminated (SIGTERM),
129 hung up (SIGHUP), each after one line, with partial output removed and finished work kept; 141 a
closed pipe.

Unlike the library, the command line configures its own process: float64 on, JAX's persistent
compilation cache pointed at memdyn's (unless ``--no-cache``), matplotlib's Agg backend.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys

from ..errors import InputError, MemdynError
from .base import Command, Parser
from .fits import Approx, Derive
from .flows import Flow, Loss, Sharp, Sweep
from .interrupt import STOPS, InterruptWatcher, stopped
from .studies import Bench, Cache, Infer, Reproduce, Train

NOT_ANSWERED = 3
"""Exit status of a run whose result is not an answer (a status other than ``ok``)."""

IO_ERROR = 74
"""Exit status of a run stopped by the file system (a full disk, an unwritable folder): sysexits' EX_IOERR."""

COMMANDS: tuple[Command, ...] = (
    Loss(),
    Flow(),
    Sweep(),
    Bench(),
    Approx(),
    Derive(),
    Train(),
    Sharp(),
    Infer(),
    Reproduce(),
    Cache(),
)


def configure(*, no_cache: bool = False) -> None:
    """What the command line sets for its own process (a library import sets none of it)."""
    import jax
    import matplotlib

    from ..core import cache

    matplotlib.use("Agg")
    jax.config.update("jax_enable_x64", True)
    if no_cache:
        cache.disable()
    else:
        cache.use_compilation_cache()


def not_answered(out) -> str | None:
    """The advice of a result that is not an answer (any status other than ``ok``), or None."""
    from ..core.status import Status

    if not isinstance(out, dict):
        return None
    found = out.get("status")
    statuses = [found] if isinstance(found, str) else list(found or [])
    statuses += [row.get("status") for row in out.get("rows", []) if isinstance(row, dict) and "status" in row]
    bad = sorted({s for s in statuses if s is not None and s != Status.OK.value})
    if not bad:
        return None
    counts = ", ".join(f"{statuses.count(s)} {s}" if len(statuses) > 1 else s for s in bad)
    return f"{counts}: " + "; ".join(Status(s).advice for s in bad)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="memdyn",
        description="The curse of memory in linear RNNs: symbolic gradient flows, "
        "integrated with Diffrax, measured against the theory (Li, Han, E & Li 2021/2022).",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="neither read nor write the persistent caches (same as MEMDYN_CACHE=off; see 'memdyn cache')",
    )
    sub = parser.add_subparsers(dest="command", parser_class=Parser)
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
        from ..version import __version__

        print(__version__)
        return 0
    if args.command is None:
        parser.print_help()
        return 2
    command: Command = args._command
    configure(no_cache=args.no_cache)
    from ..core.files import remove_partial

    watcher = InterruptWatcher(command.name, remove_partial)
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
    except OSError as err:  # the machine's, not the input's: a full disk, an unwritable or vanished folder
        remove_partial()
        where = f" ({err.filename})" if err.filename else ""
        print(
            f"memdyn {command.name}: error: cannot write{where}: {err.strerror or err}; files already there "
            "are left as they were",
            file=sys.stderr,
        )
        return IO_ERROR
    except KeyboardInterrupt as err:  # Ctrl-C, or SIGTERM/SIGHUP raised as Terminated
        watcher.handled = True
        remove_partial()
        status, word = stopped(err)
        print(f"memdyn {command.name}: {word}", file=sys.stderr)
        return status
    except Exception as err:  # a bug, not bad input: still one line, unless asked for the traceback
        remove_partial()
        if os.environ.get("MEMDYN_DEBUG"):
            raise
        print(
            f"memdyn {command.name}: internal error: {type(err).__name__}: {str(err).splitlines()[0][:200] if str(err) else ''} "
            "(a bug, please report it; MEMDYN_DEBUG=1 shows the traceback)",
            file=sys.stderr,
        )
        return 1
    finally:
        watcher.stop()
    if args.json:
        print(json.dumps(out))
    else:
        command.show(out, args)
    advice = not_answered(out)
    if advice:
        print(f"memdyn {command.name}: not answered: {advice}", file=sys.stderr)
        return NOT_ANSWERED
    return 0


def console() -> None:
    """The ``memdyn`` command: ``main``, then exit with its status. After an interrupt the
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
    if code in {128 + int(s) for s in STOPS}:  # interrupted or terminated; stdout is flushed above
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


__all__ = ["main", "console", "build_parser", "COMMANDS", "NOT_ANSWERED", "IO_ERROR"]
