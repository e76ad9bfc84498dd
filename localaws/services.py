"""The services our own server answers, and a small admin API for the test harness."""
from __future__ import annotations

import json

from werkzeug.wrappers import Request, Response

ADMIN_PREFIX = "/_localaws/"


class MotoLeftovers:
    """Billable resources that moto keeps (our own services report theirs themselves)."""

    ACTIVE_EMR = ["STARTING", "BOOTSTRAPPING", "RUNNING", "WAITING"]

    def __init__(self, moto_url: str):
        import boto3

        from .storage import SERVICE_CREDENTIALS

        self.emr = boto3.client("emr", endpoint_url=moto_url, region_name="us-east-1", **SERVICE_CREDENTIALS)

    def leftovers(self) -> dict[str, list[str]]:
        clusters = self.emr.list_clusters(ClusterStates=self.ACTIVE_EMR)["Clusters"]
        return {"EMR clusters": sorted(c["Id"] for c in clusters)}

    def clear_leftovers(self) -> None:
        ids = self.leftovers()["EMR clusters"]
        if ids:
            self.emr.terminate_job_flows(JobFlowIds=ids)


class AdminService:
    """GET /_localaws/leftovers: resources still up; POST /_localaws/reset: delete them."""

    def __init__(self, services: dict):
        self.services = services

    def matches(self, request: Request) -> bool:
        return request.path.startswith(ADMIN_PREFIX)

    def __call__(self, request: Request) -> Response:
        action = request.path[len(ADMIN_PREFIX):]
        if action == "leftovers" and request.method == "GET":
            found = {}
            for service in self.services.values():
                if hasattr(service, "leftovers"):
                    found.update({k: v for k, v in service.leftovers().items() if v})
            return Response(json.dumps(found), content_type="application/json")
        if action == "reset" and request.method == "POST":
            if request.mimetype != "application/json":  # a page's "simple" cross-site POST cannot be JSON
                return Response(json.dumps({"message": "reset needs Content-Type: application/json"}),
                                status=415, content_type="application/json")
            for service in self.services.values():
                if hasattr(service, "clear_leftovers"):
                    service.clear_leftovers()
            return Response("{}", content_type="application/json")
        return Response(json.dumps({"message": f"unknown admin call {request.path}"}), status=404,
                        content_type="application/json")


def admin(base_url: str, action: str, post: bool = False, timeout: float = 60) -> dict:
    """Call the admin API (GET leftovers, POST reset) as the test harness does."""
    import urllib.request

    request = urllib.request.Request(f"{base_url}{ADMIN_PREFIX}{action}", method="POST" if post else "GET",
                                     data=b"{}" if post else None,
                                     headers={"Content-Type": "application/json"} if post else {})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read() or b"{}")


def build_services(emulator) -> dict:
    """Every subpackage of localaws with a `build(emulator) -> {name: service}` function
    is a service our server answers (sagemaker, and each service added later)."""
    import importlib
    import pkgutil

    import localaws

    services: dict = {}
    for module in pkgutil.iter_modules(localaws.__path__):
        if module.ispkg and module.name not in ("boot",):
            package = importlib.import_module(f"localaws.{module.name}")
            if hasattr(package, "build"):
                services.update(package.build(emulator))
    checks = {**services, "moto": MotoLeftovers(emulator.moto_url)}
    services["admin"] = AdminService(checks)
    return services
