#!/usr/bin/env bash
# One entry point for newcomers and CI, on Debian 12 (as root, or with sudo):
#   bash packaging/dev.sh run    set everything up, open the demo scene
#   bash packaging/dev.sh test   set everything up, run the whole test suite (what CI runs)
#   bash packaging/dev.sh setup  only set up (apt packages, .venv with the project)
# Set-up is idempotent and quick when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
VENV="$ROOT/.venv"
PY="$VENV/bin/python"

APT_PACKAGES=(
  python3 python3-venv python3-dev xvfb xauth
  libgl1-mesa-dri libglx-mesa0 libegl1 libegl-mesa0 libosmesa6
  libxkbcommon0 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1
  libxcb-render-util0 libxcb-shape0 libxcb-xkb1 libxcb-randr0 libxcb-xfixes0 libxcb-shm0
  libxcb-sync1 libxcb-glx0 libx11-xcb1 libfontconfig1 libdbus-1-3 libglib2.0-0 libxcursor1 libxrender1
  libxi6 libsm6 libice6 mosquitto openssl
)

say() { printf '\033[1m[citytwin]\033[0m %s\n' "$*" >&2; }

setup_apt() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { say "need root (or sudo) to install: ${missing[*]}"; exit 1; }
    SUDO=sudo
  fi
  say "installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

setup_venv() {
  local stamp="$VENV/.citytwin-installed"
  local want
  want=$(cat pyproject.toml | sha256sum | cut -d' ' -f1)
  if [ -x "$PY" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return 0
  fi
  if [ ! -x "$PY" ]; then
    say "creating $VENV"
    python3 -m venv "$VENV"
  fi
  say "installing citytwin and its test tools into $VENV"
  "$PY" -m pip install -q --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
  "$PY" -m pip install -q -e ".[test]" 2>&1 | grep -v "^WARNING: Location" || true
  "$PY" -c "import citytwin, vtk, pyvista, PySide6, lxml, orjson, shapely, pyproj, trimesh" \
    || { say "the Python environment is incomplete"; exit 1; }
  echo "$want" > "$stamp"
}

ensure_demo() {
  if [ ! -f scenes/demo.toml ]; then
    say "generating the demo district"
    "$PY" -m citytwin.demo
  fi
}

xrun() {
  if [ -n "${DISPLAY:-}" ] && [ -z "${CITYTWIN_FORCE_XVFB:-}" ]; then
    "$@"
  else
    xvfb-run -a -s "-screen 0 1920x1080x24" "$@"
  fi
}

cmd=${1:-run}
shift || true
case "$cmd" in
  setup)
    setup_apt; setup_venv ;;
  run)
    setup_apt; setup_venv; ensure_demo
    # citytwin opens the viewer when there is a display, and prints `citytwin info` on the demo otherwise
    [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] || say "no display: showing what the demo scene holds (citytwin info)"
    exec "$VENV/bin/citytwin" "$@" ;;
  test)
    setup_apt; setup_venv
    say "ruff"
    "$VENV/bin/ruff" check app tests benchmarks
    say "mypy"
    "$VENV/bin/mypy"
    say "pytest"
    export CITYTWIN_FORCE_XVFB=1
    xrun "$PY" -m pytest "$@" ;;
  *)
    say "usage: bash packaging/dev.sh run|test|setup [args]"; exit 2 ;;
esac
