"""Golden ``estimate --json`` outputs of every built-in pattern, to prove a refactor changes no number.

Scenarios per pattern, in both modes: the defaults, and every parameter at its min and at its max
(the others at their defaults). Each pattern's outputs are kept in
``tests/golden/estimates/<id>.json.gz`` as ``{scenario key: estimate JSON}``; the key reads like the
command line that made it (``autosize peak_qps=1e+06``).

Regenerate only when a figure is meant to change, and say which and why in the commit::

    make golden        # or: python -m tests.golden_estimates
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import math
from pathlib import Path

import yaml

from explorer.cli import main as cli_main

ROOT = Path(__file__).resolve().parent.parent
GOLDEN_DIR = ROOT / "tests" / "golden" / "estimates"
MODES = ("provisioned", "autosize")


def pattern_ids() -> list[str]:
    return sorted(p.stem for p in (ROOT / "architectures").glob("*.yaml"))


def scenarios(pattern_id: str) -> list[tuple[str, list[str]]]:
    """``(key, CLI arguments)`` for every golden scenario of a pattern."""
    params = _parameters(pattern_id)
    rows: list[tuple[str, list[str]]] = []
    for mode in MODES:
        rows.append((f"{mode}", ["--mode", mode]))
        for name, lo, hi in params:
            for v in (lo, hi):
                rows.append((f"{mode} {name}={v!r}", ["--mode", mode, "--set", f"{name}={v!r}"]))
    return rows


def _parameters(pattern_id: str) -> list[tuple[str, float, float]]:
    text = _cli(["estimate", pattern_id, "--json"])
    values = json.loads(text)["values"]
    doc = yaml.safe_load((ROOT / "architectures" / f"{pattern_id}.yaml").read_text())
    out = []
    for q in doc.get("parameters", []):
        assert q["name"] in values
        out.append((q["name"], float(q["min"]), float(q["max"])))
    return out


def _cli(argv: list[str]) -> str:
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = cli_main(argv)
    if code != 0:
        raise RuntimeError(f"python -m explorer {' '.join(argv)} exited {code}")
    return buf.getvalue()


def estimate(pattern_id: str, args: list[str]) -> dict:
    return json.loads(_cli(["estimate", pattern_id, "--json", *args]))


def path_for(pattern_id: str) -> Path:
    return GOLDEN_DIR / f"{pattern_id}.json.gz"


def record(pattern_id: str) -> dict:
    return {key: estimate(pattern_id, args) for key, args in scenarios(pattern_id)}


def write(pattern_id: str) -> Path:
    data = record(pattern_id)
    raw = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    path = path_for(pattern_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(raw, compresslevel=9, mtime=0))
    return path


def read(pattern_id: str) -> dict:
    return json.loads(gzip.decompress(path_for(pattern_id).read_bytes()))


def differences(expected, actual, path: str = "$", rel: float = 1e-9, out: list[str] | None = None,
                limit: int = 20) -> list[str]:
    """Where ``actual`` differs from ``expected``: floats within ``rel``, everything else exactly."""
    out = [] if out is None else out
    if len(out) >= limit:
        return out
    if isinstance(expected, dict) and isinstance(actual, dict):
        for k in sorted(set(expected) | set(actual)):
            if k not in actual:
                out.append(f"{path}.{k}: missing")
            elif k not in expected:
                out.append(f"{path}.{k}: unexpected")
            else:
                differences(expected[k], actual[k], f"{path}.{k}", rel, out, limit)
    elif isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            out.append(f"{path}: {len(actual)} items, expected {len(expected)}")
        for i, (e, a) in enumerate(zip(expected, actual, strict=False)):
            differences(e, a, f"{path}[{i}]", rel, out, limit)
    elif (isinstance(expected, (int, float)) and isinstance(actual, (int, float))
          and not isinstance(expected, bool) and not isinstance(actual, bool)):
        if not math.isclose(float(expected), float(actual), rel_tol=rel, abs_tol=1e-12):
            out.append(f"{path}: {actual!r}, expected {expected!r}")
    elif expected != actual:
        out.append(f"{path}: {actual!r}, expected {expected!r}")
    return out


if __name__ == "__main__":
    for pid in pattern_ids():
        p = write(pid)
        print(f"{p.relative_to(ROOT)}  {p.stat().st_size / 1024:.0f} KiB")
