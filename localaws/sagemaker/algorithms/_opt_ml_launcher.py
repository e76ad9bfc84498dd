"""Start a script-mode entry point where it sees the job's directory as /opt/ml.

    python -I -S _opt_ml_launcher.py SPEC.json -- python train.py --epochs 10

A standalone file (no localaws imports), run with the emulator's Python by script_mode.py,
one process per "host". It is single-threaded, which unshare(CLONE_NEWUSER) requires, and
it ends by exec'ing the command: same pid, same process group, so the emulator's SIGTERM /
SIGKILL to the group reach the script as before.

Setup, all inside a private mount namespace (it dies with the script and its children;
nothing is mounted where the emulator or any other process can see it):

1. unshare(CLONE_NEWUSER | CLONE_NEWNS), mapping our uid and gid to 0 — the script runs as
   root, as it does in a SageMaker container. Already root: CLONE_NEWNS alone.
2. mount --make-rprivate /   (nothing propagates back to the host's mounts)
3. the spec's binds into the per-host tree `opt/ml` (code, input, input/config, model, output)
4. /opt's own entries recreated in the stage directory as binds of the originals (`ml`
   excepted: a host that has one, e.g. a SageMaker notebook instance, does not leak it in)
5. the stage bound over /opt: /opt/ml is the job's tree, the rest of /opt unchanged.

The whole setup is first tried in a forked child: only if it succeeds there does this
process do it for real, so a machine where part of it is refused (macOS, a container's
seccomp profile, user namespaces disabled or restricted by AppArmor) falls back cleanly:
the spec's `fallback_env` (the SM_* variables pointing at the job's real directories) and
one line in the job log saying so. LOCALAWS_SAGEMAKER_OPT_ML=off forces that fallback.
"""
import json
import os
import sys

CLONE_NEWNS, CLONE_NEWUSER = 0x00020000, 0x10000000  # <linux/sched.h>
MS_BIND, MS_REC, MS_PRIVATE = 4096, 16384, 1 << 18  # <linux/mount.h>
FORCE_FALLBACK = "LOCALAWS_SAGEMAKER_OPT_ML"


def _libc():
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_void_p]
    libc.unshare.argtypes = [ctypes.c_int]
    return libc, ctypes


def _check(result, ctypes, what):
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _write(path, text):
    with open(path, "w") as f:
        f.write(text)


def setup(spec):
    """Enter new namespaces and make /opt/ml the job's tree; raise if any step is refused."""
    if not sys.platform.startswith("linux"):
        raise OSError(f"{sys.platform} has no Linux mount namespaces")
    libc, ctypes = _libc()
    uid, gid = os.geteuid(), os.getegid()
    if uid == 0:
        _check(libc.unshare(CLONE_NEWNS), ctypes, "unshare(CLONE_NEWNS)")
    else:
        _check(libc.unshare(CLONE_NEWUSER | CLONE_NEWNS), ctypes, "unshare(CLONE_NEWUSER|CLONE_NEWNS)")
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", f"0 {uid} 1")
        _write("/proc/self/gid_map", f"0 {gid} 1")

    def bind(source, target):
        _check(libc.mount(source.encode(), target.encode(), None, MS_BIND | MS_REC, None), ctypes,
               f"bind {source} on {target}")

    _check(libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None), ctypes, "mount --make-rprivate /")
    if not os.path.isdir("/opt"):
        raise OSError("this machine has no /opt directory to show /opt/ml in")
    stage = spec["stage"]
    ml = os.path.join(stage, "ml")
    for source, relative in spec["binds"]:
        bind(source, os.path.join(ml, relative))
    for entry in os.scandir("/opt"):
        if entry.name == "ml":
            continue
        target = os.path.join(stage, entry.name)
        if entry.is_symlink():
            if not os.path.lexists(target):
                os.symlink(os.readlink(entry.path), target)
            continue
        if entry.is_dir(follow_symlinks=False):
            os.makedirs(target, exist_ok=True)
        else:
            open(target, "a").close()
        bind(entry.path, target)
    bind(stage, "/opt")


def _probe(spec):
    """Run setup() in a throwaway child; None if it worked, else why not."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            setup(spec)
            code = 0
        except BaseException as err:  # noqa: BLE001 - anything refused means: fall back
            os.write(write, f"{type(err).__name__}: {err}".encode()[:2000])
            code = 1
        os._exit(code)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        reason = pipe.read().decode(errors="replace")
    _, status = os.waitpid(pid, 0)
    if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
        return None
    return reason or f"the setup process ended with status {status}"


def main(argv):
    spec_path, separator, command = argv[1], argv[2], argv[3:]
    if separator != "--" or not command:
        sys.exit("usage: _opt_ml_launcher.py SPEC.json -- COMMAND...")
    with open(spec_path) as f:
        spec = json.load(f)
    env = dict(os.environ)
    if env.get(FORCE_FALLBACK, "").strip().lower() in ("off", "0", "false", "no"):
        reason = f"{FORCE_FALLBACK}={env[FORCE_FALLBACK]}"
    else:
        try:
            reason = _probe(spec)
            if reason is None:
                setup(spec)
        except Exception as err:  # noqa: BLE001 - e.g. no fork or no libc: fall back
            reason = f"{type(err).__name__}: {err}"
    if reason is None:
        os.chdir(spec["cwd"])
    else:
        env.update(spec["fallback_env"])
        print(spec["fallback_message"].format(reason=reason), flush=True)
    try:
        os.execve(command[0], command, env)
    except OSError as err:
        sys.exit(f"cannot run {command[0]}: {err}")


if __name__ == "__main__":
    main(sys.argv)
