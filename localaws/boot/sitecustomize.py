"""Python runs this at start-up in every process `localaws run` (or the tests) launch,
because localaws puts this folder on PYTHONPATH. It touches three things in the SageMaker
SDK and, in notebook kernels, how the process ends; nothing else.

The SageMaker SDK's waiters sleep *before* their first status check: 5 s in every
`fit()` and `transform()`, 30 s in every `deploy()`, even when the job is already
finished, as localaws's jobs are. Here `sagemaker.session` gets its own clock: `sleep()`
returns after at most 0.1 s of real time and `time()` moves forward by the time it was
asked to sleep, so the SDK's polling logic runs unchanged, without the wall-clock wait.

It also remembers which SDK config it has validated: the SDK checks its config file
against its JSON schema on every setting it looks up (about 0.1 s each, some 70 times per
notebook), and localaws relies on that file for the default bucket and telemetry opt-out.
Set LOCALAWS_FAST_POLL=0 to switch these two off.

And it lets the SDK's STS calls go where the environment says. The SDK gives its STS client
an explicit regional URL (`sagemaker.utils.sts_regional_endpoint`), which overrides botocore's
`AWS_ENDPOINT_URL_STS` / `AWS_ENDPOINT_URL`, so `sagemaker.get_execution_role()` and
`Session.account_id()` ignored the endpoint every other client in the process uses. When one
of those variables is set (and `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` is not), the SDK uses it.

Last, a notebook kernel (`python -m ipykernel_launcher`) ends without the interpreter's
teardown. Once the kernel has shut down and every `atexit` hook has run (the notebooks'
clean-up hooks, ipykernel's, PySpark's, the `weakref.finalize` ones), freeing every module
object one by one is all that is left: 0.65 s of CPU after `import sagemaker`, 1.1 s after
`import tensorflow`, paid by every notebook `make run` and `make test` run, and nothing a
reader sees. The hook below is registered before any other, so it runs last, flushes the
process's own stdout and stderr and ends it with status 0, the status of a kernel that was
shut down. Other processes (the training scripts localaws runs, pytest, papermill) end as
usual, with their own status. Set LOCALAWS_FAST_EXIT=0 to switch it off; it is off while
coverage measures subprocesses (COVERAGE_PROCESS_START), whose hook must run after ours.
"""
import atexit
import importlib.abc
import importlib.machinery
import json
import os
import sys
import time as _time

MAX_REAL_SLEEP = 0.1


class _FastClock:
    """The `time` module as sagemaker.session sees it."""

    def __init__(self):
        self._skipped = 0.0

    def sleep(self, seconds):
        real = min(max(seconds, 0.0), MAX_REAL_SLEEP)
        _time.sleep(real)
        self._skipped += max(seconds - real, 0.0)

    def time(self):
        return _time.time() + self._skipped

    def monotonic(self):
        return _time.monotonic() + self._skipped

    def __getattr__(self, name):
        return getattr(_time, name)


def _fast_clock(module):
    module.time = _FastClock()


def _validate_once(module):
    validate, seen = module.validate_sagemaker_config, set()

    def validate_sagemaker_config(sagemaker_config=None):
        key = json.dumps(sagemaker_config, sort_keys=True, default=str)
        if key not in seen:
            validate(sagemaker_config)
            seen.add(key)

    module.validate_sagemaker_config = validate_sagemaker_config


def _sts_where_configured(module):
    regional = module.sts_regional_endpoint

    def sts_regional_endpoint(region):
        if os.environ.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "").lower() != "true":
            configured = os.environ.get("AWS_ENDPOINT_URL_STS") or os.environ.get("AWS_ENDPOINT_URL")
            if configured:
                return configured
        return regional(region)

    module.sts_regional_endpoint = sts_regional_endpoint


def _session(module):
    if os.environ.get("LOCALAWS_FAST_POLL", "1") == "1":
        _fast_clock(module)
    _sts_where_configured(module)


PATCHES = {"sagemaker.session": _session, "sagemaker.config.config": _validate_once}


class _PatchingLoader(importlib.abc.Loader):
    def __init__(self, inner, patch):
        self._inner, self._patch = inner, patch

    def create_module(self, spec):
        return self._inner.create_module(spec)

    def exec_module(self, module):
        self._inner.exec_module(module)
        self._patch(module)

    def __getattr__(self, name):  # get_source, get_filename ... of the real loader
        return getattr(self._inner, name)


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name not in PATCHES:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _PatchingLoader(spec.loader, PATCHES[name])
        return spec


def _end_kernel_without_teardown():
    if os.path.basename(sys.argv[0]) != "ipykernel_launcher.py":
        return
    for stream in (sys.__stdout__, sys.__stderr__):
        try:
            stream.flush()
        except (AttributeError, OSError, ValueError):  # absent or already closed
            pass
    os._exit(0)


def _chain_next_sitecustomize():
    """Run the sitecustomize this one shadows, if the environment has one."""
    here = os.path.dirname(os.path.abspath(__file__))
    others = [p for p in sys.path if os.path.abspath(p or ".") != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", others)
    if spec and spec.loader:
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)


if os.environ.get("LOCALAWS_FAST_POLL", "1") != "1":
    PATCHES.pop("sagemaker.config.config")
if not any(isinstance(f, _Finder) for f in sys.meta_path):
    sys.meta_path.insert(0, _Finder())
if __name__ == "sitecustomize":  # at interpreter start-up (the test harness also runs this file directly)
    if os.environ.get("LOCALAWS_FAST_EXIT", "1") == "1" and not os.environ.get("COVERAGE_PROCESS_START"):
        atexit.register(_end_kernel_without_teardown)  # first registered, so it runs last
    try:
        import importlib.util

        _chain_next_sitecustomize()
    except Exception as err:  # never break interpreter start-up
        print(f"localaws: the environment's own sitecustomize failed: {err!r}", file=sys.stderr)
