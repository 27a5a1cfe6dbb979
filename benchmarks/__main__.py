"""Run every benchmark script in this folder (``python -m benchmarks``), each in its own process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def main() -> int:
    """Run each ``bench_*.py`` as a module from the repository root; return non-zero if any failed."""
    folder = Path(__file__).parent
    failed = 0
    for script in sorted(folder.glob("bench_*.py")):
        print(f"\n=== {script.stem} ===", flush=True)
        command = [sys.executable, "-m", f"{folder.name}.{script.stem}"]
        failed += subprocess.run(command, cwd=folder.parent, check=False).returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
