#!/usr/bin/env bash
# One entry point for newcomers and CI, on Debian 12 (as root, or with sudo):
#   bash packaging/dev.sh run             set everything up, open the demo scene
#   bash packaging/dev.sh test [ARGS]     set everything up, run the whole test suite (what CI runs);
#                                         ARGS go to pytest
#   bash packaging/dev.sh test --latest   the same against the newest releases, in .venv-latest
#                                         (run it before refreshing the lock)
#   bash packaging/dev.sh setup           only set up (apt packages, .venv with the project)
#   bash packaging/dev.sh lock            bring packaging/requirements.lock (uv, exact versions with
#                                         hashes) in line with pyproject.toml, keeping pins it has;
#                                         `lock --upgrade`: the newest releases of everything
# The .venv is installed from packaging/requirements.lock only: the same versions on every machine.
# Set-up is idempotent and quick when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
LOCK="$ROOT/packaging/requirements.lock"
UV_VERSION=0.13.9
# The lock is for Debian 12's CPython 3.11 on x86-64 (glibc 2.36)
LOCK_TARGET=(--python-version 3.11 --python-platform x86_64-manylinux_2_36)

APT_PACKAGES=(
  python3 python3-venv python3-dev xvfb xauth
  libgl1-mesa-dri libglx-mesa0 libegl1 libegl-mesa0 libosmesa6
  libxkbcommon0 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1
  libxcb-render-util0 libxcb-shape0 libxcb-xkb1 libxcb-randr0 libxcb-xfixes0 libxcb-shm0
  libxcb-sync1 libxcb-glx0 libx11-xcb1 libfontconfig1 libdbus-1-3 libglib2.0-0 libxcursor1 libxrender1
  libxi6 libsm6 libice6 mosquitto openssl
  chromium-headless-shell  # tests open the what-if report (HTML) in a real headless browser
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

pip_quiet() {  # pip_quiet PYTHON ARGS...: pip with its output filtered, its exit status kept
  local out rc=0
  out=$(mktemp)
  "$1" -m pip "${@:2}" >"$out" 2>&1 || rc=$?
  grep -v -e "^WARNING: Location" -e "^$" "$out" >&2 || true
  rm -f "$out"
  return "$rc"
}

check_env() {
  "$1" -c "import citytwin, vtk, pyvista, PySide6, lxml, orjson, shapely, pyproj, trimesh" \
    || { say "the Python environment in $(dirname "$(dirname "$1")") is incomplete"; exit 1; }
}

setup_venv() {
  local stamp="$VENV/.citytwin-installed"
  local want
  want=$(cat pyproject.toml "$LOCK" | sha256sum | cut -d' ' -f1)
  if [ -x "$PY" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return 0
  fi
  if [ ! -x "$PY" ]; then
    say "creating $VENV"
    python3 -m venv "$VENV"
  fi
  say "installing the locked dependencies (packaging/requirements.lock) into $VENV"
  pip_quiet "$PY" install -q --require-hashes --no-deps -r "$LOCK" \
    || { say "installing from packaging/requirements.lock failed"; exit 1; }
  pip_quiet "$PY" install -q --no-deps --no-build-isolation -e . \
    || { say "installing citytwin failed"; exit 1; }
  check_env "$PY"
  echo "$want" > "$stamp"
}

setup_latest() {
  # The newest releases of everything (no lock): to see what a refresh of the lock would bring
  VENV="$ROOT/.venv-latest"
  PY="$VENV/bin/python"
  [ -x "$PY" ] || { say "creating $VENV"; python3 -m venv "$VENV"; }
  say "installing the newest releases into $VENV"
  pip_quiet "$PY" install -q --upgrade pip setuptools wheel
  pip_quiet "$PY" install -q --upgrade --upgrade-strategy eager -e ".[test]" \
    || { say "installing the newest releases failed"; exit 1; }
  check_env "$PY"
  "$PY" -m pip list --format=freeze 2>/dev/null | grep -iE "^(lxml|numpy|vtk|pyvista|pyside6[-_a-z]*|trimesh|pytest)=" \
    | tr '\n' ' ' | sed 's/^/[citytwin] newest: /' >&2; echo >&2
}

lock() {
  local tools="$ROOT/.cache/uv"
  if [ ! -x "$tools/bin/uv" ] || [ "$("$tools/bin/uv" --version | cut -d' ' -f2)" != "$UV_VERSION" ]; then
    say "installing uv $UV_VERSION into $tools"
    python3 -m venv "$tools"
    pip_quiet "$tools/bin/python" install -q "uv==$UV_VERSION"
  fi
  say "resolving pyproject.toml (+ test tools, + build tools) into packaging/requirements.lock"
  # Kept pins stay (a new dependency does not move the others); `lock --upgrade` takes the newest of all
  "$tools/bin/uv" pip compile pyproject.toml packaging/lock-extra.in --extra test --generate-hashes \
    "$@" "${LOCK_TARGET[@]}" --custom-compile-command "bash packaging/dev.sh lock" -q -o "$LOCK"
  say "done: review 'git diff packaging/requirements.lock', then run 'bash packaging/dev.sh test'"
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

run_tests() {
  say "ruff"
  "$VENV/bin/ruff" check app tests benchmarks
  say "mypy"
  "$VENV/bin/mypy"
  say "pytest"
  export CITYTWIN_FORCE_XVFB=1
  xrun "$PY" -m pytest "$@"
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
    setup_apt
    if [ "${1:-}" = "--latest" ]; then
      shift; setup_latest
    else
      setup_venv
    fi
    run_tests "$@" ;;
  lock)
    lock "$@" ;;
  *)
    say "usage: bash packaging/dev.sh run|test [--latest]|setup|lock [args]"; exit 2 ;;
esac
