"""Print the pinned requirements of pyproject.toml, one a line, for Dockerfile_BE.

Installing these before the code is copied keeps the (large) dependency layer
cached across code changes. Usage:

    python3 requirements.py pyproject.toml cpu   # dependencies + the `tensorflow` extra
    python3 requirements.py pyproject.toml gpu   # dependencies + tensorflow[and-cuda], same version
    python3 requirements.py pyproject.toml none  # dependencies only
"""

from __future__ import annotations

import re
import sys
import tomllib


def requirements(pyproject: str, variant: str) -> list[str]:
    with open(pyproject, "rb") as f:
        project = tomllib.load(f)["project"]
    reqs = list(project.get("dependencies", []))
    tf = project.get("optional-dependencies", {}).get("tensorflow", [])
    if variant == "cpu":
        reqs += tf
    elif variant == "gpu":
        for req in tf:
            # tensorflow-cpu==X  ->  tensorflow[and-cuda]==X (the CUDA libraries come as wheels)
            m = re.fullmatch(r"\s*tensorflow(?:-cpu)?\s*((?:[=<>!~]=?|===).*)?", req)
            reqs.append(f"tensorflow[and-cuda]{m.group(1) or ''}" if m else req)
    elif variant != "none":
        raise SystemExit(f"unknown TensorFlow variant {variant!r}: use cpu, gpu or none")
    return reqs


if __name__ == "__main__":
    print("\n".join(requirements(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "cpu")))
