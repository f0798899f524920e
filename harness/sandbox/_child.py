"""Child side of the sandbox: the first code that runs in the sandboxed interpreter.

Started as `python -S -B -P _child.py SPEC_FD REPORT_FD` by `harness.sandbox.runner`, as root inside
fresh namespaces where the machine allows them. It reads the job from SPEC_FD (an unlinked file,
closed before any untrusted code runs), opens the standard library's folders by descriptor (so imports
keep working after the drop even when the interpreter lives under a private home such as
/root/.pyenv), sets the resource limits, drops to the sandbox uid/gid, then runs the program, its
tests, and its probe calls, in one namespace.

Reports are lines (Python literals, read back with ast.literal_eval) on REPORT_FD, each carrying a
per-run nonce that the program's namespace never holds: one for the tests, written only after the
test code ran to its end (or failed), then one with the probe outputs. The parent accepts "passed"
only from a tests line with that nonce, so a program that exits early (sys.exit, os._exit, a signal)
cannot pass. This defends against early exits, not against a program that digs the nonce out of the
interpreter's memory. Only built-in and standard-library modules are used here, and few of them:
every import costs every run.
"""

import os
import sys


def _set_limits(limits):
    import resource

    for name, value in limits.items():
        soft = hard = int(value)
        if name == "RLIMIT_CPU":
            hard = soft + 1  # SIGXCPU at the soft limit, SIGKILL one second later
        resource.setrlimit(getattr(resource, name), (soft, hard))


def _reroot_imports():
    """Point sys.path at /proc/self/fd/N for the stdlib folders, opened while still privileged."""
    paths = []
    for entry in sys.path:
        if entry.endswith(".zip") or not os.path.isdir(entry):
            continue
        fd = os.open(entry, os.O_RDONLY | os.O_DIRECTORY)
        paths.append("/proc/self/fd/%d" % fd)
    old = [entry for entry in sys.path if os.path.isdir(entry)]
    for module in list(sys.modules.values()):  # packages imported at startup (encodings, collections)
        search = getattr(module, "__path__", None)
        if isinstance(search, list):
            for i, entry in enumerate(search):
                for before, after in zip(old, paths):
                    if entry == before or entry.startswith(before + os.sep):
                        search[i] = after + entry[len(before):]
    sys.path[:] = paths
    sys.path_importer_cache.clear()


def _drop(uid, gid):
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
    if os.getuid() != uid or os.geteuid() != uid:
        raise OSError("uid did not change")


def _where(tb, filename, source):
    """(line number, line text) of the innermost frame that ran `filename`, or (None, None)."""
    found = (None, None)
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_filename == filename:
            lineno = tb.tb_lineno
            lines = source.splitlines()
            text = lines[lineno - 1].strip() if 0 < lineno <= len(lines) else ""
            found = (lineno, text[:300])
        tb = tb.tb_next
    return found


def _describe(exc, stage, sources):
    info = {"stage": stage, "error": type(exc).__name__, "message": str(exc)[:500]}
    if isinstance(exc, SyntaxError) and exc.filename in sources:
        info["line"] = exc.lineno
        info["text"] = (exc.text or "").strip()[:300]
        return info
    for filename in ("<tests>", "<probe>", "<program>"):
        if filename in sources:
            lineno, text = _where(exc.__traceback__, filename, sources[filename])
            if lineno is not None:
                info["file"] = filename
                info["line"] = lineno
                info["text"] = text
                break
    if isinstance(exc, SystemExit):
        info["message"] = "exit status %r" % (exc.code,)
    return info


def _canon_repr(value, depth=0):
    """repr with set members sorted, so equal behaviour gives equal text whatever the hash order."""
    if depth > 20:
        return "..."
    if isinstance(value, (set, frozenset)):
        inner = sorted(_canon_repr(v, depth + 1) for v in value)
        return "%s({%s})" % (type(value).__name__, ", ".join(inner))
    if isinstance(value, list):
        return "[" + ", ".join(_canon_repr(v, depth + 1) for v in value) + "]"
    if isinstance(value, tuple):
        return "(" + ", ".join(_canon_repr(v, depth + 1) for v in value) + ",)"
    if isinstance(value, dict):
        items = sorted((_canon_repr(k, depth + 1), _canon_repr(v, depth + 1)) for k, v in value.items())
        return "{" + ", ".join("%s: %s" % kv for kv in items) + "}"
    if isinstance(value, float) and value == value and value not in (float("inf"), float("-inf")):
        return repr(round(value, 9))
    text = repr(value)
    if " at 0x" in text:  # default object repr: the address says nothing about behaviour
        text = "<%s>" % type(value).__name__
    return text


def main():
    spec_fd, report_fd = int(sys.argv[1]), int(sys.argv[2])
    import marshal  # built in: json would cost a `re` import (7 ms) in every run

    with os.fdopen(spec_fd, "rb") as fh:
        spec = marshal.loads(fh.read())
    nonce = spec["nonce"]
    notes = []

    def write(payload):
        payload["nonce"] = nonce
        payload["notes"] = notes
        data = ("\n" + repr(payload) + "\n").encode("utf-8", "backslashreplace")
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except BaseException:
            pass
        try:
            os.write(report_fd, data)
        except OSError:
            pass

    def finish(payload=None):
        if payload is not None:
            write(payload)
        os._exit(0)  # no atexit handlers, no lingering threads of the program

    import _signal  # built in; `signal` would import enum and collections (tens of ms a run)

    # As PID 1 of a namespace the interpreter would ignore SIGXCPU's default action; a handler is
    # delivered, so the CPU limit ends the run with a status the parent reads as a timeout.
    _signal.signal(_signal.SIGXCPU, lambda signum, frame: os._exit(128 + _signal.SIGXCPU))
    _reroot_imports()
    _set_limits(spec["limits"])
    if spec.get("uid") is not None:
        try:
            _drop(spec["uid"], spec["gid"])
        except OSError as exc:
            notes.append("privileges not dropped (%s)" % exc)
    os.chdir(spec["cwd"])
    os.umask(0o077)
    del spec["nonce"]
    program, tests, calls = spec["program"], spec["tests"], spec["calls"]
    sources = {"<program>": program, "<tests>": tests}
    namespace = {"__name__": "__sandbox__", "__builtins__": __builtins__}
    import time

    start = time.perf_counter()
    try:
        code = compile(program, "<program>", "exec")
    except BaseException as exc:  # SyntaxError, ValueError (null bytes), RecursionError
        finish({"kind": "tests", "status": "syntax", **_describe(exc, "compile", sources)})
    try:
        exec(code, namespace)
    except BaseException as exc:
        finish({"kind": "tests", "status": "error", **_describe(exc, "program", sources)})
    if tests:
        # Tests first: a probe call that hangs must not cost the test verdict.
        try:
            exec(compile(tests, "<tests>", "exec"), namespace)
        except AssertionError as exc:
            write({"kind": "tests", "status": "failed", **_describe(exc, "tests", sources)})
        except BaseException as exc:
            write({"kind": "tests", "status": "error", **_describe(exc, "tests", sources)})
        else:
            write({"kind": "tests", "status": "passed", "seconds": time.perf_counter() - start})
    else:
        write({"kind": "tests", "status": "passed", "seconds": time.perf_counter() - start})
    if calls:
        outputs = []
        for call in calls:
            try:
                value = eval(compile(call, "<probe>", "eval"), namespace)
                text = _canon_repr(value)
            except BaseException as exc:  # an exception is behaviour too
                text = "!" + type(exc).__name__
            outputs.append(text[:2000])
        write({"kind": "probe", "outputs": outputs})
    finish()


if __name__ == "__main__":
    main()
