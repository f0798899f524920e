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
    return [int(x.rsplit("/", 1)[1]) for x in paths]


# Landlock (Linux >= 5.13): after `landlock_restrict_self` this process and everything it starts may
# read only the standard library's folders (by the descriptors opened above) and read and write only
# its own run folder and /dev/null; no other file (no /proc, so no /proc/self/mem and no other
# process's files; no benchmark data, no project, no home), no TCP bind or connect, and (ABI >= 6) no
# signal to a process outside the sandbox. Called through _ctypes directly: the ctypes package would
# cost every run several milliseconds.
_FS_READ = (1 << 0) | (1 << 2) | (1 << 3)  # execute, read file, read dir
_FS_ALL_BY_ABI = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1}  # later ABIs: all 16 rights


def _landlock(read_fds, write_paths):
    """Restrict this process; returns the kernel's Landlock ABI, raises OSError when unavailable."""
    import _ctypes

    class _long(_ctypes._SimpleCData):
        _type_ = "l"

    class _Fn(_ctypes.CFuncPtr):
        _flags_ = _ctypes.FUNCFLAG_CDECL | _ctypes.FUNCFLAG_USE_ERRNO
        _restype_ = _long

    libc = _ctypes.dlopen(None, 2)
    syscall = _Fn(_ctypes.dlsym(libc, "syscall"))
    prctl = _Fn(_ctypes.dlsym(libc, "prctl"))

    def check(res, what):
        if res < 0:
            raise OSError(_ctypes.get_errno(), "%s failed (errno %d)" % (what, _ctypes.get_errno()))
        return res

    abi = syscall(444, None, 0, 1)  # LANDLOCK_CREATE_RULESET_VERSION
    check(abi, "landlock ABI query")
    fs_all = _FS_ALL_BY_ABI.get(abi, (1 << 16) - 1)
    if abi >= 6:
        attr = fs_all.to_bytes(8, "little") + (3).to_bytes(8, "little") + (3).to_bytes(8, "little")
    elif abi >= 4:
        attr = fs_all.to_bytes(8, "little") + (3).to_bytes(8, "little")
    else:
        attr = fs_all.to_bytes(8, "little")
    ruleset = check(syscall(444, attr, len(attr), 0), "landlock_create_ruleset")
    try:
        opened = []
        rules = [(fd, _FS_READ) for fd in read_fds]
        for path, rights in write_paths:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            opened.append(fd)
            rules.append((fd, fs_all if rights == "all" else rights & fs_all))
        for fd, rights in rules:
            beneath = rights.to_bytes(8, "little") + fd.to_bytes(4, "little", signed=True)  # packed struct
            check(syscall(445, ruleset, 1, beneath, 0), "landlock_add_rule")
        check(prctl(38, 1, 0, 0, 0), "PR_SET_NO_NEW_PRIVS")
        check(syscall(446, ruleset, 0), "landlock_restrict_self")
    finally:
        os.close(ruleset)
        for fd in opened:
            os.close(fd)
    return abi


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


# -- plain data: the only thing a split run sends back ------------------------------------------------
# Exact built-in types only, checked with `type(x) is T` (never isinstance, never the object's own
# methods): a subclass with a lying __eq__, __repr__ or __hash__ is not plain data. Ints travel as hex
# and floats as float.hex (exact, no digit limit); containers as tagged tuples. The builtins used here
# are bound when this module loads, before any program runs, so a program that replaces
# `builtins.type` or `builtins.len` does not change what this encoder sees.
class NotPlain(Exception):
    pass


def _encode(value, budget, _type=type, _bool=bool, _int=int, _float=float, _str=str, _bytes=bytes,
            _list=list, _tuple=tuple, _dict=dict, _set=set, _frozenset=frozenset,
            _len=len, _format=format, _fhex=float.hex, _complex=complex, _exc=NotPlain):
    """`value` as nested tuples of str and int (read back by harness.sandbox.plain.decode); raises
    NotPlain for anything else. `budget` is a one-element list: nodes and characters still allowed."""
    stack = [(value, 0)]
    out_stack = []
    # Iterative, post-order: (value, depth) to visit; ("<build>", tag, n) to assemble n children.
    while stack:
        item = stack.pop()
        if _type(item) is _tuple and _len(item) == 3 and item[0] is _build:
            _, tag, n = item
            children = out_stack[_len(out_stack) - n:] if n else []
            del out_stack[_len(out_stack) - n:]
            out_stack.append((tag, _tuple(children)))
            continue
        v, depth = item
        budget[0] -= 1
        if budget[0] < 0:
            raise _exc("output too large")
        if depth > 100:
            raise _exc("nested deeper than 100 levels")
        t = _type(v)
        if v is None:
            out_stack.append(("n",))
        elif t is _bool:
            out_stack.append(("b", 1 if v else 0))
        elif t is _int:
            budget[0] -= v.bit_length() >> 4
            out_stack.append(("i", _format(v, "x")))
        elif t is _float:
            out_stack.append(("f", _fhex(v)))
        elif t is _complex:
            out_stack.append(("c", _fhex(v.real), _fhex(v.imag)))
        elif t is _str or t is _bytes:
            budget[0] -= _len(v)
            if budget[0] < 0:
                raise _exc("output too large")
            out_stack.append(("s" if t is _str else "y", v))
        elif t is _list or t is _tuple or t is _set or t is _frozenset:
            members = _list(v)  # exact built-in containers: iterating runs no program code
            stack.append((_build, {_list: "l", _tuple: "t", _set: "S", _frozenset: "F"}[t], _len(members)))
            for m in reversed(members):
                stack.append((m, depth + 1))
        elif t is _dict:
            pairs = _list(v.items())
            stack.append((_build, "d", 2 * _len(pairs)))
            for k, m in reversed(pairs):
                stack.append((m, depth + 1))
                stack.append((k, depth + 1))
        else:
            raise _exc("a %s is not plain data" % _type_name(t))
    return out_stack[0]


_build = object()


def _type_name(t):
    try:
        name = type.__dict__["__name__"].__get__(t)  # the type's own slot, never a metaclass property
        module = type.__dict__["__module__"].__get__(t)
        return name if module == "builtins" else "%s.%s" % (module, name)
    except BaseException:
        return "object"


def _safe_call(fn, args, kwargs, wrap, wrappers):
    """Call `fn`; (True, plain output) or (False, why). The wrapper of the test (`list(candidate(x))`)
    is applied here, as the test applies it, so a generator output works as in the test."""
    try:
        out = fn(*args, **kwargs)
        if wrap:
            out = wrappers[wrap](out)
    except BaseException as exc:
        return False, "raised " + _type_name(type(exc))
    try:
        return True, _encode(out, [4 << 20])
    except NotPlain as exc:
        return False, "returned " + (exc.args[0] if exc.args and type(exc.args[0]) is str else "no plain data")
    except BaseException as exc:
        return False, "could not be read back (%s)" % _type_name(type(exc))


def _record_hook(records, wrappers):
    """`__case__` for record mode: the transformed test hands each case here; the reference is called
    and the arguments, expected value, tolerances and the reference's output are kept as plain data."""

    def hook(kind, wrap, callee, fn, args, kwargs, expected, params, line):
        if len(records) >= 5000:
            raise RuntimeError("more than 5000 cases")
        try:
            enc_args = _encode((args, kwargs), [4 << 20])
        except NotPlain as exc:
            records.append({"line": line, "unplain": "arguments: %s" % exc.args[0]})
            return
        ok, out = _safe_call(fn, args, kwargs, wrap, wrappers)
        try:
            enc_exp = _encode((expected(), params), [4 << 20])
        except NotPlain as exc:
            records.append({"line": line, "unplain": "expected value: %s" % exc.args[0]})
            return
        records.append({"line": line, "kind": kind, "wrap": wrap, "callee": callee, "args": enc_args,
                        "expected": enc_exp, "ok": ok, "output": out})

    return hook


def main():
    spec_fd, report_fd = int(sys.argv[1]), int(sys.argv[2])
    import marshal  # built in: json would cost a `re` import (7 ms) in every run

    with os.fdopen(spec_fd, "rb") as fh:
        spec = marshal.loads(fh.read())
    nonce = spec["nonce"]
    notes = []
    isolation = []

    def write(payload):
        payload["nonce"] = nonce
        payload["notes"] = notes
        payload["isolation"] = isolation
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
    stdlib_fds = _reroot_imports()
    _set_limits(spec["limits"])
    if spec.get("uid") is not None:
        try:
            _drop(spec["uid"], spec["gid"])
        except OSError as exc:
            notes.append("privileges not dropped (%s)" % exc)
    os.chdir(spec["cwd"])
    if spec.get("landlock", True):
        try:
            abi = _landlock(stdlib_fds, [(spec["cwd"], "all"), ("/dev/null", (1 << 1) | (1 << 2))])
            isolation.append("landlock ABI %d (reads: stdlib; writes: own folder)" % abi)
        except (OSError, AttributeError, ImportError) as exc:
            notes.append("no Landlock (%s): files outside the run folder readable per uid" % exc)
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
    mode = spec.get("mode", "tests")
    wrappers = {"set": set, "frozenset": frozenset, "tuple": tuple, "list": list, "sorted": sorted}
    if mode == "cases":
        # The verdict is the parent's: only the outputs go back, and this process never holds an
        # expected value. A missing output (an exit, a kill) fails its case there.
        outputs = []
        for callee, args, kwargs, wrap in spec["cases"]:
            fn = namespace.get(callee)
            outputs.append(_safe_call(fn, args, kwargs, wrap, wrappers) if fn is not None
                           else (False, "`%s` is not defined" % callee))
        write({"kind": "cases", "outputs": outputs, "seconds": time.perf_counter() - start})
        tests = ""
    elif mode == "record":
        records = []
        namespace["__case__"] = _record_hook(records, wrappers)
        try:
            exec(compile(tests, "<tests>", "exec"), namespace)
            status = {"status": "passed"}
        except BaseException as exc:
            status = {"status": "error", **_describe(exc, "tests", sources)}
        write({"kind": "record", "cases": records, **status})
        tests = ""
    elif tests:
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
