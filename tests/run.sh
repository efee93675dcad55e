#!/bin/sh
# The whole test suite from a clean checkout: installs what the tests need
# when it is missing (Debian/Ubuntu: cmake, a C compiler, cmocka,
# pkg-config, and python3-sklearn, gnuplot, matplotlib and pandas for the
# optional peer check and plotting recipes, and Open MPI for the MPI
# build), builds
# with warnings as errors under gcc and, when present, clang, and runs ctest.
set -eu
cd "$(dirname "$0")/.."

need=""
command -v cmake >/dev/null 2>&1 || need="$need cmake"
command -v cc >/dev/null 2>&1 || need="$need gcc"
[ -f /usr/include/cmocka.h ] || need="$need libcmocka-dev"
command -v pkg-config >/dev/null 2>&1 || need="$need pkg-config"
# The scikit-learn peer check and the plotting recipes are optional:
# install their tools when possible, and let their tests say "SKIPPED" when
# not.
/usr/bin/python3 -c "import sklearn" 2>/dev/null || peer="python3-sklearn"
command -v gnuplot >/dev/null 2>&1 || peer="${peer:-} gnuplot-nox"
/usr/bin/python3 -c "import matplotlib, pandas" 2>/dev/null ||
    peer="${peer:-} python3-matplotlib python3-pandas"
# Open MPI, for the build that mpirun runs (optional like the above).
command -v mpicc >/dev/null 2>&1 || peer="${peer:-} libopenmpi-dev openmpi-bin"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
if [ -n "$need" ] || [ -n "${peer:-}" ]; then
    echo "tests/run.sh: installing$need ${peer:-}"
    $sudo apt-get update -qq
fi
if [ -n "$need" ]; then
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $need >/dev/null
fi
if [ -n "${peer:-}" ]; then
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $peer \
        >/dev/null 2>&1 || echo "tests/run.sh: could not install $peer"
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

# The command line for MPI, and mpirun -np 2 and 3 against one process.
if command -v mpicc >/dev/null 2>&1 && command -v mpirun >/dev/null 2>&1; then
    # the rest of the suite ran above: only the binary and its MPI test
    cmake -S . -B build-mpi -DCMAKE_BUILD_TYPE=Release -DEMFIT_WERROR=ON \
        -DEMFIT_MPI=ON >/dev/null
    cmake --build build-mpi -j "$jobs" --target emfit_cli
    ctest --test-dir build-mpi --output-on-failure -R e2e_mpi_fit
else
    echo "tests/run.sh: Open MPI not found: skipping the MPI build"
fi

# libFuzzer on the CSV reader, the JSON reader and whole fits, 20 s each,
# under ASan and UBSan; the seed corpus holds every crash found so far.
sh tests/fuzz/run.sh 20
