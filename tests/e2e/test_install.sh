# `cmake --install` of the build tree this test belongs to, into a
# temporary prefix: the files are there, each public header compiles on its
# own, and a small C program fits through the installed library, found once
# by pkg-config and once by find_package(emfit).
set -u
. "$(dirname "$0")/lib.sh"
BUILD=$(cd "$(dirname "$EMFIT")" && pwd)
PREFIX=$TMP/prefix

if ! cmake --install "$BUILD" --prefix "$PREFIX" >"$TMP/out" 2>"$TMP/err"; then
    fail install "cmake --install $BUILD failed"
    finish
    exit 1
fi
passed=$((passed + 1))

# The build's compiler, and its sanitizers: a program linking an ASan
# libemfit.a needs them too (the package does not carry them, since an
# ordinary build has none).
cache() { sed -n "s/^$1:[A-Z]*=//p" "$BUILD/CMakeCache.txt"; }
CC=$(cache CMAKE_C_COMPILER)
[ -n "$CC" ] || CC=cc
SAN=""
[ "$(cache EMFIT_SANITIZE)" = ON ] && SAN="-fsanitize=address,undefined -fno-sanitize-recover=all"
LIBDIR=$(cache CMAKE_INSTALL_LIBDIR)
[ -n "$LIBDIR" ] || LIBDIR=lib

for f in bin/emfit share/man/man1/emfit.1 \
    share/bash-completion/completions/emfit include/emfit/emfit.h \
    "$LIBDIR/pkgconfig/emfit.pc" "$LIBDIR/cmake/emfit/emfitConfig.cmake" \
    "$LIBDIR/cmake/emfit/emfitConfigVersion.cmake" \
    "$LIBDIR/cmake/emfit/emfitTargets.cmake"; do
    check "installed $f" '[ -s "$PREFIX/$f" ]'
done
check "installed library" '[ -s "$PREFIX/$LIBDIR/libemfit.a" ] || [ -e "$PREFIX/$LIBDIR/libemfit.so" ]'
for h in "$SRC"/include/emfit/*.h; do
    check "installed header $(basename "$h")" 'cmp -s "$h" "$PREFIX/include/emfit/$(basename "$h")"'
done
check installed-binary-runs '[ "$("$PREFIX/bin/emfit" --version)" = "$("$EMFIT" --version)" ]'

# Each header on its own (twice, for its include guard), strict C11.
for h in "$PREFIX"/include/emfit/*.h; do
    name=emfit/$(basename "$h")
    printf '#include <%s>\n#include <%s>\nint main(void) { return 0; }\n' \
        "$name" "$name" >"$TMP/header.c"
    check "header $name stands alone" \
        '"$CC" -std=c11 -pedantic -Wall -Wextra -Werror -fsyntax-only -I"$PREFIX/include" "$TMP/header.c" 2>"$TMP/err"'
done

# The consumer, examples/fit_bvn.c: a bvn fit of 8 rows in memory whose
# mu2 has a closed form, 4.635.  Its log-likelihood must equal the
# installed binary's on the same rows.
cp "$SRC/examples/fit_bvn.c" "$TMP/app.c"
printf 'x,y\n1,1.2\n2,1.9\n3,3.4\n4,3.8\n5,5.3\n6,NA\n7,NA\n8,NA\n' >"$TMP/small.csv"
ll=$("$PREFIX/bin/emfit" --model bvn --tol 1e-15 --trace none --result - "$TMP/small.csv" |
    sed -n 's/^ *"loglik": \(.*\),$/\1/p')
version=$("$EMFIT" --version | sed 's/^emfit //')
want=$(awk -v v="$version" -v ll="$ll" \
    'BEGIN { printf "emfit %s bvn n=8 mu2=4.635000 loglik=%.6f converged=1", v, ll }')
check cli-loglik '[ -n "$ll" ]'

# run_app NAME PROGRAM: runs the consumer and checks its line.
run_app() {
    got=$(LD_LIBRARY_PATH="$PREFIX/$LIBDIR" "$2" 2>"$TMP/err")
    check "$1 output" '[ "$got" = "$want" ] || { echo "  got:  $got"; echo "  want: $want"; false; }'
}

if command -v pkg-config >/dev/null 2>&1; then
    export PKG_CONFIG_PATH="$PREFIX/$LIBDIR/pkgconfig"
    check pkg-config-version '[ "$(pkg-config --modversion emfit)" = "$version" ]'
    if [ -s "$PREFIX/$LIBDIR/libemfit.a" ] && [ ! -e "$PREFIX/$LIBDIR/libemfit.so" ]; then
        check pkg-config-static-libs 'pkg-config --libs emfit | grep -q -- "-lm" && pkg-config --libs emfit | grep -q -- "-pthread"'
    fi
    # shellcheck disable=SC2046,SC2086  # the flags are meant to split
    if "$CC" -std=c11 -pedantic -Wall -Wextra -Werror $SAN $(pkg-config --cflags emfit) \
        "$TMP/app.c" -o "$TMP/app-pc" $(pkg-config --libs emfit) 2>"$TMP/err"; then
        passed=$((passed + 1))
        run_app pkg-config-app "$TMP/app-pc"
    else
        fail pkg-config-build "compiling the consumer with pkg-config's flags failed"
    fi
else
    echo "SKIPPED: the pkg-config consumer (no pkg-config; tests/run.sh installs it)"
fi

# find_package(emfit) from a CMake project of its own.
mkdir "$TMP/consumer"
cp "$TMP/app.c" "$TMP/consumer/app.c"
cat >"$TMP/consumer/CMakeLists.txt" <<EOF
cmake_minimum_required(VERSION 3.13)
project(consumer LANGUAGES C)
find_package(emfit $version REQUIRED)
add_executable(app app.c)
target_link_libraries(app PRIVATE emfit::emfit)
EOF
if cmake -S "$TMP/consumer" -B "$TMP/consumer-build" -DCMAKE_PREFIX_PATH="$PREFIX" \
        -DCMAKE_C_COMPILER="$CC" -DCMAKE_C_FLAGS="$SAN" \
        -DCMAKE_EXE_LINKER_FLAGS="$SAN" >"$TMP/out" 2>"$TMP/err" &&
    cmake --build "$TMP/consumer-build" >"$TMP/out" 2>"$TMP/err"; then
    passed=$((passed + 1))
    run_app find-package-app "$TMP/consumer-build/app"
else
    fail find-package-build "configuring or building the CMake consumer failed"
fi
# A version the package does not promise is refused.
sed -i "s/find_package(emfit $version REQUIRED)/find_package(emfit 99 REQUIRED)/" \
    "$TMP/consumer/CMakeLists.txt"
check find-package-refuses-version '! cmake -S "$TMP/consumer" -B "$TMP/consumer-99" -DCMAKE_PREFIX_PATH="$PREFIX" >/dev/null 2>&1'

finish
