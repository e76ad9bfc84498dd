"""Command line of the offline AWS.

    python -m localaws serve [--port 4567] [--moto-port 4566]   # until Ctrl-C
    python -m localaws run [--strict] [--iam enforce|warn|off] [--job-seconds N] -- COMMAND [ARG ...]
                                                                # COMMAND with AWS emulated
"""
from __future__ import annotations

import argparse
import os
import shlex
import signal
import subprocess
import sys
import threading

from .emulator import Emulator, PortInUse


def _serve(args) -> int:
    stop = threading.Event()
    # Both signals explicitly: a process started with SIGINT ignored (some CI runners and job
    # controls do that) inherits SIG_IGN, and Python then raises no KeyboardInterrupt.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    emulator = Emulator(port=args.port, moto_port=args.moto_port, strict=args.strict, echo_logs=args.verbose,
                        iam=args.iam, job_seconds=args.job_seconds)
    try:
        emulator.start()
    except PortInUse as err:
        emulator.stop()
        print(f"localaws serve: {err}", file=sys.stderr)
        return 2
    print(f"localaws is up: moto (S3, STS, IAM, Logs ...) at {emulator.moto_url}, "
          f"SageMaker and the computing services at {emulator.url}")
    print("In another shell, point boto3 and the SageMaker SDK here with:\n")
    for key, value in sorted(emulator.env.items()):
        print(f"export {key}={shlex.quote(value)}")
    print("\nCtrl-C stops it. Its state is in memory: stopping it forgets every bucket, job and endpoint.",
          flush=True)
    try:
        stop.wait()
    finally:
        emulator.stop()
        print("localaws stopped")
    return 0


def _run(args) -> int:
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        print("localaws run: give a command after --, e.g. python -m localaws run -- jupyter lab",
              file=sys.stderr)
        return 2
    with Emulator(strict=args.strict, echo_logs=args.verbose, iam=args.iam, job_seconds=args.job_seconds) as emulator:
        env = {**os.environ, **emulator.env}
        env.pop("AWS_PROFILE", None)
        try:
            return subprocess.run(command, env=env).returncode
        except FileNotFoundError:
            print(f"localaws run: command not found: {command[0]}", file=sys.stderr)
            return 127
        except KeyboardInterrupt:
            return 130


def main(argv: list[str] | None = None) -> int:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--strict", action="store_true",
                        help="check every response against botocore's service model (used by the tests)")
    common.add_argument("--verbose", action="store_true", help="echo job logs to this terminal")
    common.add_argument("--iam", choices=Emulator.IAM_MODES, default="enforce",
                        help="enforce (default): run as the course's role (course_iam/) and refuse what its "
                             "policies do not allow, as AWS would; warn: allow but log each such call; off")
    common.add_argument("--job-seconds", type=float, default=0.0, metavar="N",
                        help="the realistic clock: Create* calls return at once and each SageMaker job, "
                             "endpoint and transform spends at least N seconds InProgress/Creating, so waiters "
                             "and Stopping can be seen (default 0: jobs are done when Create* returns)")
    parser = argparse.ArgumentParser(prog="python -m localaws", description="Offline AWS for the book's notebooks")
    commands = parser.add_subparsers(dest="action", required=True)
    serve = commands.add_parser("serve", parents=[common],
                                help="run the emulator until Ctrl-C and print its environment")
    serve.add_argument("--port", type=int, default=4567, help="port of SageMaker & co. (default 4567)")
    serve.add_argument("--moto-port", type=int, default=4566, help="port of moto's services (default 4566)")
    run = commands.add_parser("run", parents=[common], help="run a command with AWS emulated, then stop")
    run.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    return _serve(args) if args.action == "serve" else _run(args)


if __name__ == "__main__":
    code = main()
    # The emulator has cleaned up (jobs' processes ended, work directory removed); what is
    # left is the interpreter's teardown, which with a job's thread still inside xgboost or
    # TensorFlow took 2 s under load. Leave at once so SIGINT/SIGTERM stop `serve` within 3 s.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
