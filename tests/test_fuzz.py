"""A fuzzer over the instance format (issue 18): mutated YAML, JSON and CSV files,
CSV paths that point outside the instance's folder, alias bombs, deep nesting,
long numbers and texts, control characters, overrides with odd values.

Every mutant must either load or raise :class:`~optimiser.errors.InputError`
whose problems are each one printable, bounded line with a location; never
another exception, never longer than a time bound, and never a word of a file
the loader must refuse to read (a canary file beside the instance's folder).

The mutator is seeded, so a failure is reproducible from its case number. CI
runs a few hundred cases; ``WFOPT_FUZZ_CASES=10000`` (and ``WFOPT_FUZZ_SEED``)
scales the test up, and ``python tests/test_fuzz.py 10000`` runs the same cases
as a script and prints the counts.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import sys
import time
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script
    sys.path.insert(0, str(REPO))

from pace import scaled  # noqa: E402

from optimiser.errors import MAX_LOCATION, MAX_MESSAGE, InputError  # noqa: E402
from optimiser.instance.load import load_instance  # noqa: E402
from optimiser.instance.overrides import Override  # noqa: E402

TINY = REPO / "instances" / "tiny"
CANARY = "CANARY_7f3a9"
"""Text of a file outside the instance's folder: it must never be read, so it
must never appear in a message."""

CASES = int(os.environ.get("WFOPT_FUZZ_CASES", "300"))
SEED = int(os.environ.get("WFOPT_FUZZ_SEED", "18"))
CASE_SECONDS = 5.0
"""Most one mutant may take to load or be refused on an idle machine (tiny loads
in ~20 ms: 250 times that), stretched at the run's start by how much slower the
machine is then (tests/pace.py): on a loaded two-core CI every case slows alike,
while what this guards against (a read that never ends, an expansion without
bound) is not a matter of a few times slower."""
HANG_SECONDS = 20.0
"""A case still running after this (stretched alike) is stopped and counted as a
hang."""

SPECIAL_NUMBERS = [
    ".inf", "-.inf", ".nan", ".NaN", "1e308", "-1e308", "1e309", "1.5e15", "1e12", "1e13",
    "1e9", "2e9", "9" * 30, "9" * 5000, "-" + "9" * 4400, "-0", "0", "-1", "1e-320", "0x1F",
    "0o17", "0b101", "1_000", "2e6", "1:20:30", "~", "null", "true", "no", "''", "'12'",
    "[]", "{}", "[1, 2]", "{a: 1}", "!!binary aGVsbG8=", "!!timestamp 2021-02-30",
    "2021-02-30", "2021-01-01", "!!float abc", "!!int xyz", "!!set {a, b}", "!!str 5",
    "!!python/object:os.system x", "!!python/name:os.system", "&a 1", "*zz", "-5",
    "3.0", "1e1000", "99999999999", "2147483648", "4294967296",
]

SPECIAL_TEXT = [
    "\x00", "\x07", "\x1b[31m", "\n", "\r\n", "\r", "\t", "\x85", "\u2028", "\u2029",
    "\u202e", "\u200b", "\ufeff", "é", "\U0001f642", "x" * 20000, ":", ": ", "- ", "? ",
    "{", "}", "[", "]", "'", '"', "#", "&", "*", "!", "|", ">", "%", "@", "`", ",", ";",
    ".", "\\", "\\x00", "<<: *a", "&x ", "*x", "---\n", "...\n", "\n  - ", "\n- ",
]

PATHS = [
    "../outside/secret.csv", "OUTSIDE_ABS", "../../../../../../etc/passwd", "/etc/passwd",
    "/dev/zero", "/dev/null", "/dev/urandom", "fifo.csv", "link_out.csv", "link_in.csv",
    "sub/../units.csv", "", " ", "a\x00b.csv", "x" * 5000, ".", "..", "/", "units.csv/",
    "missing.csv", "/proc/self/environ", "/proc/self/status", "dir.csv", "loop.csv",
    "~/units.csv", "units.csv\n", "units.csv\x07", "C:\\units.csv", "%2e%2e/units.csv",
]

SECTIONS = ["units", "workforce", "targets", "staff_groups", "training", "budgets",
            "posts", "international", "retention", "return_to_practice"]

OVERRIDE_KEYS = [
    "budgets.education.per_year", "training.nursing_degree.cost_per_place_year",
    "training.nursing_degree.duration", "workforce.north_trust/nurse.fte",
    "international.nurse_intl.max_per_year", "solver.seed", "solver.threads",
    "horizon.years", "horizon.base_year", "name", "targets.nurses_national.required.2019",
    "training.nursing_degree.supervision.max_trainees_per_fte", "units", "staff_groups",
    "objective.value_per_fte", "solver.time_limit", "retention.high_exit.response",
]


class Hang(Exception):
    pass


# ---------------------------------------------------------------- mutants


def _files() -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in TINY.iterdir()
            if p.suffix in (".yaml", ".csv")}


BASE = _files()
NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:e[-+]?\d+)?(?![\w.])")
VALUE = re.compile(r"(?<=: )[^,{}\[\]\n]+")
PATH_VALUE = re.compile(r"^(\w+): (\w+\.csv)$", re.M)


def _mutate_text(rng: random.Random, text: str) -> str:
    """One edit of YAML or JSON text."""
    op = rng.randrange(9)
    if op == 0 and NUMBER.search(text):
        ms = list(NUMBER.finditer(text))
        m = rng.choice(ms)
        return text[:m.start()] + rng.choice(SPECIAL_NUMBERS) + text[m.end():]
    if op == 1 and VALUE.search(text):
        ms = list(VALUE.finditer(text))
        m = rng.choice(ms)
        new = rng.choice(SPECIAL_NUMBERS + SPECIAL_TEXT)
        return text[:m.start()] + new + text[m.end():]
    if op == 2:
        i = rng.randrange(len(text) + 1)
        return text[:i] + rng.choice(SPECIAL_TEXT) + text[i:]
    if op == 3:
        i = rng.randrange(len(text) + 1)
        j = min(len(text), i + rng.randrange(1, 40))
        return text[:i] + text[j:]
    if op == 4:
        lines = text.splitlines(keepends=True)
        i = rng.randrange(len(lines))
        if rng.random() < 0.5:
            lines.insert(i, lines[rng.randrange(len(lines))])
        else:
            j = rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        return "".join(lines)
    if op == 5:
        lines = text.splitlines(keepends=True)
        i = rng.randrange(len(lines))
        lines[i] = " " * rng.randrange(0, 7) + lines[i].lstrip(" ")
        return "".join(lines)
    if op == 6:
        i = rng.randrange(len(text) + 1)
        return text[:i] + chr(rng.randrange(0x20, 0x3000)) + text[i:]
    if op == 7:
        i = rng.randrange(len(text) + 1)
        j = min(len(text), i + rng.randrange(1, 200))
        return text[:i] + text[i:j] * rng.randrange(2, 50) + text[j:]
    return text.replace(rng.choice(["nurse", "north", "2016", "0.", "id", "group"]),
                        rng.choice(SPECIAL_TEXT + SPECIAL_NUMBERS + ["", "nurse"]), 1)


def _alias_bomb(rng: random.Random) -> str:
    levels, width = rng.randrange(2, 12), rng.randrange(2, 12)
    lines = ["a0: &a0 [lol, lol, lol]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    if rng.random() < 0.5:
        lines.append(f"name: *a{levels - 1}")
    else:
        lines.append(f"units: *a{levels - 1}")
    return "\n".join(lines) + "\n" + BASE["instance.yaml"].split("\n", 3)[-1] * rng.randrange(2)


def _merge_bomb(rng: random.Random) -> str:
    lines = ["m0: &m0 {x: 1, y: 2}"]
    levels = rng.randrange(2, 20)
    for i in range(1, levels):
        lines.append(f"m{i}: &m{i} {{<<: [*m{i - 1}, *m{i - 1}, *m{i - 1}], k{i}: 1}}")
    lines.append(f"horizon: *m{levels - 1}")
    return "\n".join(lines) + "\n"


def _deep(rng: random.Random, json_like: bool) -> str:
    depth = rng.choice([20, 31, 32, 33, 60, 200, 999, 1000, 3000, 20000])
    if json_like:
        inner = "[" * depth + "]" * depth if rng.random() < 0.5 else \
            '{"a":' * depth + "1" + "}" * depth
        return '{"name": "t", "horizon": ' + inner + "}"
    if rng.random() < 0.5:
        return "name: t\nhorizon: " + "[" * depth + "]" * depth + "\n"
    return "name: t\nhorizon:\n" + "".join("  " * i + "-\n" for i in range(min(depth, 3000)))


def _structural(rng: random.Random) -> str:
    op = rng.randrange(7)
    if op == 0:
        return _alias_bomb(rng)
    if op == 1:
        return _merge_bomb(rng)
    if op == 2:
        return _deep(rng, False)
    if op == 3:
        return "a: &a [*a]\n" if rng.random() < 0.5 else "a: &a {b: *a}\n"
    if op == 4:
        return BASE["instance.yaml"] + "\n---\nname: second\n"
    if op == 5:
        return "name: t\nunits:\n" + "".join(f"  - {{id: u{i}, region: r}}\n"
                                              for i in range(rng.randrange(1, 3000)))
    return rng.choice(["", "\n", "- a\n- b\n", "just text", "42", "~", "!!binary AAAA",
                       "\ufeff" + BASE["instance.yaml"], "%YAML 1.1\n---\nname: t\n",
                       "%TAG ! tag:x,2000:\n---\n!foo 1\n", "? [a, b]\n: 1\n"])


def _mutate_csv(rng: random.Random, text: str) -> str | bytes:
    rows = text.splitlines() or [""]
    op = rng.randrange(12)
    if op == 0:  # a special value in a cell
        r = rng.randrange(len(rows))
        cells = rows[r].split(",")
        c = rng.randrange(len(cells))
        cells[c] = rng.choice(SPECIAL_NUMBERS + SPECIAL_TEXT + ["inf", "nan", "-inf", "1e400"])
        rows[r] = ",".join(cells)
    elif op == 1:  # a quoted cell with a newline, a quote, a NUL
        r = rng.randrange(len(rows))
        cells = rows[r].split(",")
        c = rng.randrange(len(cells))
        cells[c] = '"' + rng.choice(["a\nb", 'a""b', "a\x00b", "x" * 200000, "a,b", "\r"]) + '"'
        rows[r] = ",".join(cells)
    elif op == 2:  # header trouble
        header = rows[0].split(",")
        header.append(rng.choice(["id", "bogus", "\x00", "a\x07b", "supervision",
                                  "supervision.group", "groups.nurse", "x" * 3000, "",
                                  "year", "id.x.y.z" + ".w" * 100]))
        rows[0] = ",".join(header)
    elif op == 3:
        return "\ufeff" + text if rng.random() < 0.5 else ""
    elif op == 4:
        return rows[0] + "\n"
    elif op == 5:
        rows.insert(rng.randrange(1, len(rows) + 1), rng.choice(["", ",,,", "a,b,c,d,e,f,g,h,i,j",
                                                                 rows[-1]]))
    elif op == 6:  # bytes that are not UTF-8
        data = text.encode("utf-8")
        i = rng.randrange(len(data) + 1)
        return data[:i] + bytes([rng.choice([0x80, 0xff, 0xc3, 0xfe])]) + data[i:]
    elif op == 7:
        r = rng.randrange(len(rows))
        rows[r] = _mutate_text(rng, rows[r]) if rows[r] else rows[r]
    elif op == 8 and len(rows) < 1000:  # many rows (a large file, not a slow one)
        rows += rows[1:] * rng.randrange(2, 50)
    elif op == 9:
        rows = [",".join(reversed(r.split(","))) for r in rows]
    elif op == 10:
        r = rng.randrange(1, len(rows)) if len(rows) > 1 else 0
        rows[r] = rows[r].replace(",", rng.choice([";", "\t", ",,", '",'])).strip()
    else:
        return text.replace("\n", "\r\n") if rng.random() < 0.5 else text.replace("\n", "\r")
    return "\n".join(rows) + "\n"


def _override(rng: random.Random) -> Override | None:
    key = rng.choice(OVERRIDE_KEYS)
    value = rng.choice(SPECIAL_NUMBERS + SPECIAL_TEXT + ["0", "1", "[[0,0],[1,1]]"])
    kind = "set" if rng.random() < 0.8 else "scale"
    try:
        return Override.parse(kind, f"{key}={value}")  # type: ignore[arg-type]
    except ValueError as exc:  # a refused override: one line, as the CLI prints it
        _check_line(str(exc), "override")
        return None


def mutant(case: int, seed: int = SEED) -> dict[str, Any]:
    """The files, overrides and allowed roots of one case (same case, same mutant)."""
    rng = random.Random(f"{seed}:{case}")
    files: dict[str, str | bytes] = dict(BASE)
    family = rng.choice(["yaml", "yaml", "csv", "csv", "path", "structural", "json",
                         "override"])
    name = "instance.yaml"
    overrides: list[Override] = []
    roots: list[str] = []
    if family == "yaml":
        text = BASE["instance.yaml"]
        for _ in range(rng.randrange(1, 4)):
            text = _mutate_text(rng, text)
        files[name] = text
    elif family == "csv":
        target = rng.choice(["units.csv", "workforce.csv", "targets.csv"])
        out: str | bytes = BASE[target]
        for _ in range(rng.randrange(1, 3)):
            out = _mutate_csv(rng, out) if isinstance(out, str) else out
        files[target] = out
    elif family == "path":
        section = rng.choice(SECTIONS)
        path = rng.choice(PATHS)
        text = BASE["instance.yaml"]
        line = f"{section}: {json.dumps(path)}"
        if re.search(rf"^{section}:.*$", text, re.M):
            text = re.sub(rf"^{section}:.*$", lambda _m: line, text, count=1, flags=re.M)
        else:
            text += line + "\n"
        files[name] = text
        if rng.random() < 0.2:
            roots = [rng.choice(["/dev", "/proc", "/etc", "OUTSIDE_DIR"])]
    elif family == "structural":
        files[name] = _structural(rng)
    elif family == "json":
        from optimiser.instance.reading import parse_yaml

        name = "instance.json"
        doc = parse_yaml(BASE["instance.yaml"])
        text = json.dumps(doc)
        if rng.random() < 0.3:
            text = _deep(rng, True)
        for _ in range(rng.randrange(1, 3)):
            text = _mutate_text(rng, text)
        text = text.replace(rng.choice(["0.9", "60", "2016"]),
                            rng.choice(["NaN", "Infinity", "-Infinity", "1e999", "9" * 5000,
                                        "[[[[[[[[]]]]]]]]", '"\\u0000"', '"\\ud800"']), 1)
        files[name] = text
    else:
        for _ in range(rng.randrange(1, 4)):
            o = _override(rng)
            if o is not None:
                overrides.append(o)
    return {"files": files, "name": name, "overrides": overrides, "roots": roots,
            "family": family}


# ---------------------------------------------------------------- checks

UNSAFE = {"Cc", "Cs", "Zl", "Zp"}


class BadMessage(AssertionError):
    pass


def _check_line(text: str, where: str, canary: bool = True) -> None:
    if len(text.splitlines()) != 1 or any(unicodedata.category(c) in UNSAFE for c in text):
        raise BadMessage(f"{where}: not one printable line: {text[:200]!r}")
    text.encode("utf-8")  # a lone surrogate would fail to print
    if canary and CANARY in text:
        raise BadMessage(f"{where}: echoes a file it must not read: {text[:200]!r}")


def check_problems(exc: InputError, canary: bool = True) -> None:
    if not exc.problems:
        raise BadMessage("InputError without problems")
    for p in exc.problems:
        if not p.location.strip():
            raise BadMessage(f"a problem without a location: {p}")
        if len(p.location) > MAX_LOCATION or len(p.message) > MAX_MESSAGE:
            raise BadMessage(f"an unbounded problem ({len(str(p))} characters)")
        _check_line(str(p), "problem", canary)


def setup_workdir(work: Path) -> Path:
    """The case folder (reused: files are rewritten per case), a canary outside
    it, links out and in, a FIFO, a folder named like a CSV file and a link loop."""
    outside = work / "outside"
    outside.mkdir(parents=True, exist_ok=True)
    (outside / "secret.csv").write_text(f"{CANARY},root:x:0:0\n{CANARY},{CANARY}\n",
                                        encoding="utf-8")
    case = work / "case"
    case.mkdir(exist_ok=True)
    links = {"link_out.csv": outside / "secret.csv", "link_in.csv": case / "units.csv",
             "loop.csv": case / "loop.csv"}
    for name, target in links.items():
        if not (case / name).is_symlink():
            os.symlink(target, case / name)
    if hasattr(os, "mkfifo") and not (case / "fifo.csv").exists():
        os.mkfifo(case / "fifo.csv")
    (case / "dir.csv").mkdir(exist_ok=True)
    return case


def run_case(case_dir: Path, m: dict[str, Any], outside: Path) -> str:
    """``valid`` or ``input_error``; raises on anything else. The canary may
    appear only when the mutant allows its folder (``--allow-files-outside``)."""
    for fname in ("instance.yaml", "instance.json", "units.csv", "workforce.csv",
                  "targets.csv"):
        (case_dir / fname).unlink(missing_ok=True)
    for fname, content in m["files"].items():
        if fname.startswith("instance.") and fname != m["name"]:
            continue
        if isinstance(content, bytes):
            (case_dir / fname).write_bytes(content)
        else:
            content = content.replace("OUTSIDE_ABS", str(outside / "secret.csv"))
            (case_dir / fname).write_bytes(content.encode("utf-8", "surrogatepass"))
    roots = [str(outside) if r == "OUTSIDE_DIR" else r for r in m["roots"]]
    try:
        load_instance(case_dir / m["name"], m["overrides"], allow_files_outside=roots)
    except InputError as exc:
        check_problems(exc, canary=str(outside) not in roots)
        return "input_error"
    return "valid"


def _alarm(_signum, _frame):
    raise Hang


def fuzz(n: int, work: Path, seed: int = SEED, start: int = 0) -> dict[str, Any]:
    """Run cases ``start … start+n-1``: the counts, and the first failures."""
    case_dir = setup_workdir(work)
    counts: Counter[str] = Counter()
    failures: list[str] = []
    slowest = 0.0
    case_seconds, hang_seconds = scaled(CASE_SECONDS), scaled(HANG_SECONDS)
    old = signal.signal(signal.SIGALRM, _alarm) if hasattr(signal, "SIGALRM") else None
    try:
        for case in range(start, start + n):
            m = mutant(case, seed)
            t0 = time.perf_counter()
            if old is not None:
                signal.setitimer(signal.ITIMER_REAL, hang_seconds)
            try:
                outcome = run_case(case_dir, m, work / "outside")
            except Hang:
                outcome = "hang"
            except BadMessage as exc:
                outcome = "multi_line" if "one printable line" in str(exc) else "bad_message"
                failures.append(f"case {case} ({m['family']}): {exc}")
            except Exception as exc:
                outcome = "exception"
                failures.append(f"case {case} ({m['family']}): {type(exc).__name__}: "
                                f"{str(exc)[:300]}")
            finally:
                if old is not None:
                    signal.setitimer(signal.ITIMER_REAL, 0)
            seconds = time.perf_counter() - t0
            slowest = max(slowest, seconds)
            if outcome == "hang" or seconds > case_seconds:
                counts["slow_or_hang"] += 1
                failures.append(f"case {case} ({m['family']}): {seconds:.1f} s")
            counts[outcome] += 1
            counts[f"family_{m['family']}"] += 1
    finally:
        if old is not None:
            signal.signal(signal.SIGALRM, old)
    return {"cases": n, "counts": dict(counts), "slowest_seconds": round(slowest, 3),
            "failures": failures[:20]}


def test_fuzz_the_instance_format(tmp_path):
    """Every mutant loads or is refused in located one-line problems, in time."""
    report = fuzz(CASES, tmp_path)
    counts = report["counts"]
    assert report["failures"] == [], report
    assert counts.get("exception", 0) == counts.get("slow_or_hang", 0) == 0
    assert counts.get("multi_line", 0) == counts.get("bad_message", 0) == 0
    # The mutants reach both outcomes and every family.
    assert counts.get("input_error", 0) > CASES // 4
    assert counts.get("valid", 0) > 0
    assert all(counts.get(f"family_{f}", 0) for f in ("yaml", "csv", "path", "structural",
                                                     "json", "override"))


def test_mutants_are_reproducible():
    assert repr(mutant(7)) == repr(mutant(7))
    assert repr(mutant(7)) != repr(mutant(8))


@pytest.mark.parametrize("case", range(3))
def test_a_refused_path_reads_nothing(tmp_path, case):
    """The canary outside the folder, through ``..``, an absolute path and a link."""
    case_dir = setup_workdir(tmp_path)
    path = ["../outside/secret.csv", str(tmp_path / "outside" / "secret.csv"),
            "link_out.csv"][case]
    files = dict(BASE)
    files["instance.yaml"] = BASE["instance.yaml"].replace("units: units.csv",
                                                           f"units: {json.dumps(path)}")
    m = {"files": files, "name": "instance.yaml", "overrides": [], "roots": []}
    assert run_case(case_dir, m, tmp_path / "outside") == "input_error"


if __name__ == "__main__":  # python tests/test_fuzz.py [CASES] [SEED]
    import tempfile

    n = int(sys.argv[1]) if len(sys.argv) > 1 else CASES
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else SEED
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        result = fuzz(n, Path(tmp), seed)
        result["seconds"] = round(time.perf_counter() - t0, 1)
    print(json.dumps(result, indent=1))
    sys.exit(1 if result["failures"] else 0)
