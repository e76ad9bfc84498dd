"""The user's inference code, imported as a serving container imports it.

A framework container's model server imports the user's module from the model's code
folder (TF Serving's `code/inference.py`; XGBoost's and the other frameworks' entry point,
SAGEMAKER_PROGRAM) with that folder, and `lib/` beside it, on the Python path. Offline the
module runs inside the emulator's process, under a name of its own so two endpoints with the
same file name do not share it; `close()` takes the folder off the path again and forgets
the modules imported from it. code/requirements.txt is not installed offline: the code runs
with this virtualenv's packages.
"""
from __future__ import annotations

import importlib.util
import sys
import uuid
from pathlib import Path
from types import ModuleType
from typing import Callable

from .base import ClientError


class UserCode:
    def __init__(self, code_dir: Path, file_name: str, say: Callable[[str], None], with_lib: bool = True,
                 shown: str | None = None):
        """Import `file_name` from `code_dir`; `shown` is how messages name it (default: the file name)."""
        self.code_dir, self.sys_paths = Path(code_dir), []
        shown = shown or file_name
        lib, requirements = self.code_dir / "lib", self.code_dir / "requirements.txt"
        if requirements.is_file():
            say("[localaws] code/requirements.txt: ignored, as the container ignores it when code/lib exists"
                if with_lib and lib.is_dir() else "[localaws] requirements.txt is not installed offline (no "
                f"downloads): {shown} runs with the packages of this virtualenv")
        for path in [str(self.code_dir)] + ([str(lib)] if with_lib and lib.is_dir() else []):
            if path not in sys.path:
                sys.path.insert(0, path)
                self.sys_paths.append(path)
        spec = importlib.util.spec_from_file_location(f"localaws_user_{uuid.uuid4().hex}", self.code_dir / file_name)
        self.module: ModuleType = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(self.module)
        except Exception as err:  # the container's server does not start: the endpoint fails
            self.close()
            raise ClientError(f"{shown} cannot be imported: {type(err).__name__}: {err}") from None

    def close(self) -> None:
        for path in self.sys_paths:
            if path in sys.path:
                sys.path.remove(path)
        self.sys_paths.clear()
        code = str(self.code_dir)
        for name, module in list(sys.modules.items()):
            if str(getattr(module, "__file__", None) or "").startswith(code + "/"):
                sys.modules.pop(name, None)
