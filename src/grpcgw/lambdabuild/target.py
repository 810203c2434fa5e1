"""What a deployment zip was built for, read from its wheels, and whether this machine runs it.

pip leaves one ``*.dist-info/WHEEL`` per installed distribution, whose
``Tag:`` lines are the wheel's compatibility tags
(``cp312-cp312-manylinux_2_17_x86_64``: CPython 3.12's ABI, glibc >= 2.17,
x86_64). A zip built by ``grpcgw lambda-build`` (or any builder that installs
wheels with pip) thus says for which Python, operating system, architecture
and glibc its native code was compiled; pure wheels (``py3-none-any``) say
nothing. :func:`read_target` gathers that, :func:`mismatch` compares it with
the running machine, so that ``grpcgw lambda-invoke --zip`` refuses a zip it
cannot run with a sentence rather than a crash inside a binary wheel.
"""

from __future__ import annotations

import platform
import re
import sys
import zipfile
from dataclasses import dataclass, field

#: A platform tag's machine -> Lambda's name for the architecture.
_ARCH = {"x86_64": "x86_64", "aarch64": "arm64", "arm64": "arm64", "amd64": "x86_64"}
_MANYLINUX = re.compile(r"manylinux_(\d+)_(\d+)_(\w+)")
#: The legacy manylinux names -> their glibc.
_LEGACY = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}


@dataclass
class Target:
    """The platform a zip's native wheels were built for (empty sets: pure Python only)."""

    #: ``3.12``: versions whose ABI some wheel was compiled for (``cp312-cp312``)
    pythons: set[str] = field(default_factory=set)
    #: ``x86_64`` or ``arm64`` (Lambda's names)
    archs: set[str] = field(default_factory=set)
    #: ``linux``, or ``macosx``, ``win``... for a zip built for another system
    systems: set[str] = field(default_factory=set)
    #: the newest glibc a wheel needs, with the wheel: ((2, 28), "grpcio")
    glibc: tuple[tuple[int, int], str] | None = None
    #: distribution -> its tags, for the wheels that are not pure
    wheels: dict[str, list[str]] = field(default_factory=dict)

    def describe(self) -> str:
        """``Python 3.12 on arm64`` (what is known of it)."""
        python = f"Python {' and '.join(sorted(self.pythons))}" if self.pythons else "Python"
        where = " and ".join(sorted(self.archs))
        return f"{python} on {where}" if where else python


@dataclass(frozen=True)
class Machine:
    """The machine and interpreter that would run the zip."""

    python: str
    arch: str
    system: str
    #: ``(2, 36)``, or ``None`` where the C library is not glibc (musl, macOS)
    glibc: tuple[int, int] | None

    @classmethod
    def here(cls) -> Machine:
        machine = platform.machine().lower()
        libc, version = platform.libc_ver()
        glibc = None
        if libc == "glibc" and (m := re.match(r"(\d+)\.(\d+)", version)):
            glibc = (int(m.group(1)), int(m.group(2)))
        return cls(
            python="{}.{}".format(*sys.version_info[:2]),
            arch=_ARCH.get(machine, machine),
            system=sys.platform,
            glibc=glibc,
        )

    def describe(self) -> str:
        return f"Python {self.python} on {self.arch}"


def _platform(tag: str) -> tuple[str, str | None, tuple[int, int] | None]:
    """``manylinux_2_17_x86_64`` -> (system, Lambda architecture, glibc needed)."""
    if m := _MANYLINUX.fullmatch(tag):
        return "linux", _ARCH.get(m.group(3), m.group(3)), (int(m.group(1)), int(m.group(2)))
    legacy, _, machine = tag.partition("_")
    if legacy in _LEGACY:
        return "linux", _ARCH.get(machine, machine), _LEGACY[legacy]
    if tag.startswith(("linux_", "musllinux_")):
        machine = tag.split("_", 1)[1] if tag.startswith("linux_") else tag.split("_", 3)[3]
        return "linux", _ARCH.get(machine, machine), None
    system = re.match(r"[a-z]+", tag)
    return (system.group(0) if system else tag), None, None


def read_target(zf: zipfile.ZipFile) -> Target:
    """What the wheels installed in ``zf`` were built for."""
    target = Target()
    for name in zf.namelist():
        parts = name.split("/")
        if len(parts) != 2 or not parts[0].endswith(".dist-info") or parts[1] != "WHEEL":
            continue
        dist = parts[0][: -len(".dist-info")].rpartition("-")[0] or parts[0]
        text = zf.read(name).decode("utf-8", "replace")
        tags = [
            line.partition(":")[2].strip()
            for line in text.splitlines()
            if line.lower().startswith("tag:")
        ]
        native = [t for t in tags if t.count("-") == 2 and not t.endswith("-any")]
        if not native:
            continue
        target.wheels[dist] = native
        needs: list[tuple[int, int]] = []
        for tag in native:
            interpreter, abi, plat = tag.split("-")
            if abi.startswith("cp") and (m := re.fullmatch(r"cp(\d)(\d+)", interpreter)):
                target.pythons.add(f"{m.group(1)}.{m.group(2)}")
            # A wheel's tags may share one file (manylinux_2_17_x86_64.manylinux2014_x86_64).
            for one in plat.split("."):
                system, arch, glibc = _platform(one)
                target.systems.add(system)
                if arch:
                    target.archs.add(arch)
                if glibc:
                    needs.append(glibc)
        # Any one of a wheel's tags is enough: it needs the oldest glibc among them.
        if needs and (target.glibc is None or min(needs) > target.glibc[0]):
            target.glibc = (min(needs), dist)
    return target


def mismatch(target: Target, machine: Machine, zip_name: str) -> str | None:
    """Why ``machine`` cannot run the zip (a sentence), or ``None`` if it can.

    Where only the Python version differs, the caller looks for that
    interpreter (``python3.12`` on PATH) first, and asks with it if found.
    """
    if len(target.pythons) > 1 or len(target.archs) > 1:
        mixed = ", ".join(f"{d} ({' '.join(tags)})" for d, tags in sorted(target.wheels.items()))
        return (
            f"{zip_name} mixes wheels for {target.describe()}, which no runtime runs together: "
            f"{mixed}; rebuild it"
        )
    if target.systems and target.systems != {"linux"}:
        return (
            f"{zip_name} holds wheels for {', '.join(sorted(target.systems))}, not Linux: "
            "Lambda cannot run it; rebuild it with grpcgw lambda-build"
        )
    if target.systems and machine.system != "linux":
        return (
            f"{zip_name} holds Linux wheels for {target.describe()}; this is {machine.system}, "
            "which cannot load them: test it in the container of docs/lambda.md "
            "(the Runtime Interface Emulator) instead"
        )
    python = next(iter(target.pythons), machine.python)
    arch = next(iter(target.archs), machine.arch)
    if arch != machine.arch:
        return (
            f"{zip_name} targets {target.describe()}; this is {machine.describe()}: rebuild "
            f"with --python {machine.python} --arch {machine.arch} to test it here"
        )
    if python != machine.python:
        return (
            f"{zip_name} targets {target.describe()}; this is {machine.describe()}, and there "
            f"is no python{python} on PATH: install it, or rebuild with --python "
            f"{machine.python} to test it here"
        )
    if target.glibc is not None:
        (major, minor), dist = target.glibc
        if machine.glibc is None:
            return (
                f"{zip_name}'s {dist} wheel needs glibc {major}.{minor}, and this machine's C "
                "library is not glibc: test it in the container of docs/lambda.md instead"
            )
        if machine.glibc < (major, minor):
            have = "{}.{}".format(*machine.glibc)
            return (
                f"{zip_name}'s {dist} wheel needs glibc {major}.{minor} (as Lambda's runtime "
                f"for Python {python} has); this machine has glibc {have}: test it in the "
                "container of docs/lambda.md instead"
            )
    return None
