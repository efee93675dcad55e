#!/bin/sh
# The whole test suite from a clean checkout: installs what the tests need
# when it is missing (Debian/Ubuntu: cmake, a C compiler, cmocka), builds
# with warnings as errors under gcc and, when present, clang, and runs ctest.
set -eu
cd "$(dirname "$0")/.."

need=""
command -v cmake >/dev/null 2>&1 || need="$need cmake"
command -v cc >/dev/null 2>&1 || need="$need gcc"
[ -f /usr/include/cmocka.h ] || need="$need libcmocka-dev"
if [ -n "$need" ]; then
    echo "tests/run.sh: installing$need"
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $need >/dev/null
fi

jobs=$(nproc 2>/dev/null || echo 2)
build() { # build DIR COMPILER [CMAKE-OPTIONS...]
    dir=$1 cc=$2
    shift 2
    cmake -S . -B "$dir" -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=Release \
        -DEMFIT_WERROR=ON "$@" >/dev/null
    cmake --build "$dir" -j "$jobs"
    ctest --test-dir "$dir" --output-on-failure -j "$jobs"
}

build build gcc
# The same suite with AddressSanitizer (leaks included) and UBSan.
build build-asan gcc -DEMFIT_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
if command -v clang >/dev/null 2>&1; then
    build build-clang clang
else
    echo "tests/run.sh: clang not found: skipping the clang build"
fi
