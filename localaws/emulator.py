"""Start and stop the offline AWS, and the environment that sends boto3 and the SDK to it.

moto's server keeps the bookkeeping services (S3, STS, IAM, CloudWatch Logs, EMR, Glue);
our own server computes what moto can only record: SageMaker training, tuning, hosting and
transform, Athena queries (DuckDB over the Glue tables' S3 objects), Comprehend,
Rekognition, Lex and the Twitter stand-in — each subpackage of localaws with a `build`
function (services.build_services). boto3 picks the endpoints from `AWS_ENDPOINT_URL` and
`AWS_ENDPOINT_URL_<SERVICE>`, so notebooks need no emulator code at all.
"""
from __future__ import annotations

import logging
import os
import shutil
import socket
import tempfile
import threading
from pathlib import Path

from moto.moto_server.werkzeug_app import MotoRequestHandler, create_backend_app
from moto.server import DomainDispatcherApplication

from . import iam
from .motofront import MotoFront
from .services import build_services
from .server import HttpServer, Router
from .storage import SERVICE_CREDENTIALS, Logs, S3

REGION = "us-east-1"
ACCOUNT = "123456789012"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/LocalSageMakerExecutionRole"
DEFAULT_BUCKET = f"sagemaker-{REGION}-{ACCOUNT}"  # the name the SDK would give it on AWS
BOOT_DIR = Path(__file__).resolve().parent / "boot"
COURSE_IAM = Path(__file__).resolve().parents[1] / "course_iam"  # the roles the notebooks run as


def _warm_up() -> None:
    """Import what the first training job needs while the notebook is still starting up."""
    import sagemaker.amazon.common  # noqa: F401  (RecordIO-protobuf)
    import sklearn.linear_model  # noqa: F401


class PortInUse(RuntimeError):
    pass


class _QuietMotoHandler(MotoRequestHandler):
    """moto's request handler (it keeps S3 metadata headers with underscores), without a log
    line per request."""

    def log_request(self, *args, **kwargs):
        pass


def _course_iam():
    """The repository's course_iam package (importable from the repository's root, or found
    next to this package)."""
    try:
        import course_iam
    except ImportError:
        import importlib.util

        spec = importlib.util.spec_from_file_location("course_iam", COURSE_IAM / "__init__.py",
                                                      submodule_search_locations=[str(COURSE_IAM)])
        if spec is None or not (COURSE_IAM / "__init__.py").exists():
            raise RuntimeError(f"IAM is on but {COURSE_IAM} is missing: run from a clone of the "
                               "repository, or pass --iam off") from None
        course_iam = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(course_iam)
    return course_iam


OWNER_FILE = ".localaws-pid"  # which process a work directory belongs to


def remove_stale_workdirs(parent: Path, keep: Path) -> list[Path]:
    """Work directories of localaws processes that died without cleaning up (SIGKILL, a
    crash): removed at the next start. A directory whose process still runs is left alone."""
    removed = []
    for candidate in parent.glob("localaws-*"):
        owner = candidate / OWNER_FILE
        if candidate == keep or not owner.is_file():
            continue
        try:
            pid = int(owner.read_text().strip())
            os.kill(pid, 0)  # raises if no such process
            continue
        except ProcessLookupError:
            pass
        except (ValueError, PermissionError, OSError):
            continue  # unreadable, or another user's process: not ours to remove
        shutil.rmtree(candidate, ignore_errors=True)
        removed.append(candidate)
    return removed


def _forget_default_boto3_session() -> None:
    """boto3's default session keeps the credentials it first read: after the environment
    changes, boto3.client(...) in this process must read them again."""
    import boto3

    boto3.DEFAULT_SESSION = None


class _ClientsAt:
    """A boto3 session whose clients all go to one endpoint (moto), for course_iam."""

    def __init__(self, session, url: str):
        self.session, self.url = session, url

    def client(self, name: str, **kwargs):
        return self.session.client(name, endpoint_url=self.url, **kwargs)


def _ensure_free(port: int, option: str) -> None:
    """A fixed port must be free before a server binds it, so the reader gets the fix, not a
    bare OSError from deep inside the server."""
    if not port:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise PortInUse(f"port {port} on 127.0.0.1 is already in use (another `localaws serve`?): "
                            f"stop that process or pass {option} with a free port (0 picks one)") from None


class Emulator:
    """Both servers on 127.0.0.1 (port 0 = any free port).

    iam: "enforce" (the default) runs the notebooks as the course's role and refuses what
    its policies do not allow; "warn" logs those calls instead; "off" allows everything."""

    BOOT_DIR = BOOT_DIR
    IAM_MODES = iam.MODES

    def __init__(self, port: int = 0, moto_port: int = 0, workdir: str | None = None,
                 strict: bool = False, echo_logs: bool = False, sync_seconds: float = 50.0,
                 iam: str = "enforce", job_seconds: float = 0.0):
        if iam not in self.IAM_MODES:
            raise ValueError(f"iam must be one of {self.IAM_MODES}, not {iam!r}")
        self.iam_mode = iam
        self.roles: dict[str, str] = {}
        self._caller: dict[str, str] = {}
        self.port, self.moto_port = port, moto_port
        self.strict, self.echo_logs, self.sync_seconds = strict, echo_logs, sync_seconds
        self.job_seconds = job_seconds  # > 0: the realistic clock (see localaws.sagemaker.models)
        self._own_workdir = workdir is None
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="localaws-"))
        self.moto: HttpServer | None = None
        self.http: HttpServer | None = None
        self.services: dict = {}

    # ------------------------------------------------------------ lifecycle
    def start(self) -> "Emulator":
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        logging.getLogger("sagemaker.config").setLevel(logging.WARNING)  # its INFO lines go to stdout
        self.workdir.mkdir(parents=True, exist_ok=True)
        if self._own_workdir:
            remove_stale_workdirs(self.workdir.parent, keep=self.workdir)
            (self.workdir / OWNER_FILE).write_text(str(os.getpid()))
        _ensure_free(self.moto_port, "--moto-port")
        _ensure_free(self.port, "--port")
        moto_app = MotoFront(iam.RequireSignature(DomainDispatcherApplication(create_backend_app)))
        self.moto = HttpServer(moto_app, port=self.moto_port,
                               request_handler=_QuietMotoHandler).start()
        self.moto_url = self.moto.url
        self.checker = iam.Checker(ACCOUNT)
        self.checker.mode = self.iam_mode
        if self.iam_mode != "off":
            self._switch_iam_on()
        self.s3, self.logs = S3(self.moto_url, REGION), Logs(self.moto_url, REGION, echo=self.echo_logs)
        self.services = build_services(self)
        self.http = HttpServer(Router(list(self.services.values())), port=self.port).start()
        self._write_sdk_config()
        threading.Thread(target=_warm_up, name="localaws-warm-up", daemon=True).start()
        return self

    def _switch_iam_on(self) -> None:
        iam.load_managed_policies(ACCOUNT)
        SERVICE_CREDENTIALS.update(iam.service_credentials(ACCOUNT))
        iam.switch_on(self.checker)
        self._iam_on = True
        self.roles = self.create_course_roles()
        self._caller = iam.session_as(ACCOUNT, self.roles[_course_iam().READER_ROLE])

    def create_course_roles(self, **options) -> dict[str, str]:
        """course_iam.create against this emulator's IAM, as its administrator would run it."""
        import boto3

        admin = boto3.Session(region_name=REGION, **SERVICE_CREDENTIALS)
        return _course_iam().create(_ClientsAt(admin, self.moto_url), log=lambda *_: None, **options)

    def session_env(self, role_name: str) -> dict[str, str]:
        """Credentials of another course role (e.g. EMR_EC2_DefaultRole for the EMR kernel)."""
        if self.iam_mode == "off":
            return {}
        return iam.session_as(ACCOUNT, self.roles[role_name])

    def reader_env(self, without: tuple[str, ...]) -> dict[str, str]:
        """The environment of a reader whose role lacks these course policies (what a reader
        meets who skipped a step of the README's IAM section)."""
        name = "MasteringML-Reader-without-" + "-".join(sorted(without))
        arn = self.create_course_roles(without=without, reader_role=name)[name]
        return {**self.env, **iam.session_as(ACCOUNT, arn), "SAGEMAKER_ROLE_ARN": arn}

    def stop(self) -> None:
        self._unexport()
        for service in (getattr(self, "services", None) or {}).values():
            shutdown = getattr(service, "shutdown", None)
            if shutdown:  # running jobs end before the servers go (SIGINT/SIGTERM within 3 s)
                shutdown()
        if getattr(self, "_iam_on", False):
            iam.switch_off()
            self._iam_on = False
        if self.http:
            self.http.stop()
        if self.moto:
            self.moto.stop()
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> "Emulator":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return self.http.url

    # ------------------------------------------------------------ environment
    def _write_sdk_config(self) -> None:
        # The SDK asks STS for the account at its regional URL (ignoring AWS_ENDPOINT_URL) to
        # name the default bucket; its own config file names the bucket instead.
        (self.workdir / "sagemaker-config.yaml").write_text(
            "SchemaVersion: '1.0'\nSageMaker:\n  PythonSDK:\n    Modules:\n"
            "      TelemetryOptOut: true\n"  # offline: no usage pings to AWS
            f"      Session:\n        DefaultS3Bucket: {DEFAULT_BUCKET}\n")
        (self.workdir / "aws-config").write_text(f"[default]\nregion = {REGION}\n")

    @property
    def env(self) -> dict[str, str]:
        """Variables that point boto3, the SageMaker SDK and our tools at this emulator."""
        env = {
            "AWS_ENDPOINT_URL": self.moto_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            **self._caller,  # with IAM on, the reader's role
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "AWS_CONFIG_FILE": str(self.workdir / "aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(self.workdir / "aws-config"),
            "AWS_EC2_METADATA_DISABLED": "true",
            "SAGEMAKER_ROLE_ARN": self.roles.get("MasteringML-SageMakerExecutionRole", ROLE_ARN),
            "SAGEMAKER_USER_CONFIG_OVERRIDE": str(self.workdir / "sagemaker-config.yaml"),
            "SAGEMAKER_SUPPRESS_V2_WARNING": "1",
            "LOCALAWS_ENDPOINT": self.url,
            "LOCALAWS_FAST_POLL": os.environ.get("LOCALAWS_FAST_POLL", "1"),
            "PYTHONPATH": os.pathsep.join(p for p in (str(BOOT_DIR), os.environ.get("PYTHONPATH")) if p),
        }
        for service in self.services.values():
            # a service names the variables that point clients at it: a tuple of names (our URL)
            # or a dict of name -> path under our URL (for non-AWS APIs such as Twitter's)
            variables = getattr(service, "endpoint_variables", ())
            if not isinstance(variables, dict):
                variables = dict.fromkeys(variables, "")
            env.update({name: self.url + path for name, path in variables.items()})
            # and any plain settings its clients need offline (e.g. HTTP allowed for OAuth)
            env.update(getattr(service, "client_environment", {}))
        return env

    def export(self) -> None:
        """Set the environment in this process (child processes, e.g. kernels, inherit it)."""
        self._environ_before = {name: os.environ.get(name) for name in [*self.env, "AWS_PROFILE"]}
        os.environ.pop("AWS_PROFILE", None)
        os.environ.update(self.env)
        _forget_default_boto3_session()

    def _unexport(self) -> None:
        """Put back the environment export() changed: nothing may point at a stopped emulator."""
        for name, value in getattr(self, "_environ_before", {}).items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._environ_before = {}
        _forget_default_boto3_session()
