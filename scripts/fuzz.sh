#!/usr/bin/env bash
# Coverage-guided fuzzing of essd's parsers and decoders (libFuzzer, swiftc -sanitize=fuzzer,address).
#
#   scripts/fuzz.sh [NAME...]            build every Fuzz/* target (or NAME...) into .build-fuzz/ and run
#                                        each for ${FUZZ_SECONDS:-60} s, one after the other
#   scripts/fuzz.sh --replay [NAME...]   build, then run every input of Fuzz/NAME/regressions/ and
#                                        Fuzz/NAME/corpus/ once (what CI and the unit tests rely on)
#   scripts/fuzz.sh --build [NAME...]    build only
#
# A target is Fuzz/<Name>/main.swift (with @_cdecl("LLVMFuzzerTestOneInput")), a sources.txt and a
# corpus/ of seed inputs. sources.txt lists, one per line ('#' starts a comment):
#   GLOB...                     sources compiled into the target's own module, beside main.swift
#   module NAME GLOB...         sources compiled first as module NAME (a static library with
#                               -enable-testing, shared by the targets in .build-fuzz/modules),
#                               which main.swift and later modules import (`@testable import`
#                               reaches its internal declarations)
#   cmodule NAME DIR            a SwiftPM C target (DIR/*.c, DIR/include/NAME.h) compiled with
#                               clang into a static library and made importable as NAME
# Runs use -timeout=10 (an input taking longer is a hang), -rss_limit_mb=2048, and print the
# executions per second. A crash, hang or out-of-memory input is copied to Fuzz/<Name>/regressions/
# and the script exits 1; a build failure exits 2. New coverage-increasing inputs stay in
# .build-fuzz/<Name>/corpus (copy good ones to Fuzz/<Name>/corpus/ by hand).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-60}
out=.build-fuzz
mode=run
names=()
for arg in "$@"; do
    case "$arg" in
        --replay) mode=replay ;;
        --build) mode=build ;;
        -h | --help) sed -n '2,21p' "$0"; exit 0 ;;
        -*) echo "fuzz.sh: unknown option $arg (try --help)" >&2; exit 64 ;;
        *) names+=("$arg") ;;
    esac
done
if [ ${#names[@]} -eq 0 ]; then
    for dir in Fuzz/*/; do names+=("$(basename "$dir")"); done
fi

flags=(-O -g -sanitize=fuzzer,address -parse-as-library -swift-version 6 -use-ld=lld -package-name essfuzz)

# build NAME: .build-fuzz/NAME/NAME from Fuzz/NAME/main.swift and its sources.txt.
build() {
    local name=$1 dir=Fuzz/$1 target=$out/$1
    local modules=$out/modules
    local flags=("${flags[@]}")  # this target's: a cmodule adds its module map
    [ -f "$dir/main.swift" ] && [ -f "$dir/sources.txt" ] || { echo "fuzz.sh: $dir needs main.swift and sources.txt" >&2; return 2; }
    # Up to date when the binary is newer than this script, main.swift, sources.txt and every source.
    if [ -x "$target/$name" ]; then
        local inputs=("$0" "$dir/main.swift" "$dir/sources.txt") entry
        # shellcheck disable=SC2013,SC2206  # words and globs of sources.txt are meant to split and expand
        for entry in $(sed -e 's/#.*//' -e 's/^ *c*module  *[^ ]* *//' "$dir/sources.txt"); do inputs+=($entry); done
        if [ -z "$(find "${inputs[@]}" -newer "$target/$name" -print -quit 2>/dev/null)" ]; then
            echo "fuzz.sh: $name: up to date"
            return 0
        fi
    fi
    mkdir -p "$modules" "$target"
    local sources=() libraries=() line words
    while IFS= read -r line || [ -n "$line" ]; do
        line=${line%%#*}
        read -r -a words <<< "$line" || true
        [ ${#words[@]} -eq 0 ] && continue
        if [ "${words[0]}" = cmodule ]; then
            local cname=${words[1]} cdir=${words[2]}
            [ -f "$cdir/include/$cname.h" ] || { echo "fuzz.sh: $dir/sources.txt: no $cdir/include/$cname.h" >&2; return 2; }
            local cfile objects=()
            printf 'module %s {\n    header "%s"\n    export *\n}\n' "$cname" "$PWD/$cdir/include/$cname.h" \
                > "$modules/$cname.modulemap"
            flags+=(-Xcc "-fmodule-map-file=$modules/$cname.modulemap")
            libraries=("-l$cname" "${libraries[@]}")
            if [ -f "$modules/lib$cname.a" ] && [ -z "$(find "$0" "$cdir" -newer "$modules/lib$cname.a" -print -quit)" ]; then
                continue
            fi
            echo "fuzz.sh: $name: C module $cname"
            for cfile in "$cdir"/*.c; do
                clang -O2 -g -fsanitize=fuzzer-no-link,address -I "$cdir/include" -c "$cfile" \
                    -o "$modules/$cname-$(basename "$cfile" .c).o" || return 2
                objects+=("$modules/$cname-$(basename "$cfile" .c).o")
            done
            rm -f "$modules/lib$cname.a"
            ar rcs "$modules/lib$cname.a" "${objects[@]}"
            continue
        fi
        local expanded=() word
        local start=0
        [ "${words[0]}" = module ] && start=2
        for word in "${words[@]:$start}"; do
            # shellcheck disable=SC2206  # the globs are meant to expand
            local matches=($word)
            [ -e "${matches[0]}" ] || { echo "fuzz.sh: $dir/sources.txt: '$word' matches no file" >&2; return 2; }
            expanded+=("${matches[@]}")
        done
        if [ "$start" = 2 ]; then
            local module=${words[1]} stamp
            # Shared by the targets; rebuilt when its file list or flags change or a file is newer.
            stamp="${flags[*]} ${expanded[*]}"
            if [ ! -f "$modules/lib$module.a" ] || [ "$(cat "$modules/$module.inputs" 2>/dev/null)" != "$stamp" ] \
                || [ -n "$(find "$0" "${expanded[@]}" -newer "$modules/lib$module.a" -print -quit)" ]; then
                echo "fuzz.sh: $name: module $module (${#expanded[@]} files)"
                rm -f "$modules/$module.inputs"
                swiftc "${flags[@]}" -enable-testing -module-name "$module" -I "$modules" -emit-module \
                    -emit-module-path "$modules/$module.swiftmodule" -emit-library -static \
                    -o "$modules/lib$module.a" "${expanded[@]}" || return 2
                printf '%s' "$stamp" > "$modules/$module.inputs"
            fi
            libraries=("-l$module" "${libraries[@]}")  # a module's library before those it uses
        else
            sources+=("${expanded[@]}")
        fi
    done < "$dir/sources.txt"
    echo "fuzz.sh: $name: target (${#sources[@]} files and main.swift)"
    swiftc "${flags[@]}" -module-name "${name}Fuzz" -I "$modules" -L "$modules" \
        "$dir/main.swift" "${sources[@]}" "${libraries[@]}" -o "$target/$name" || return 2
}

# keep NAME: copies the crash, timeout and oom inputs libFuzzer left to Fuzz/NAME/regressions/;
# fails (status 1) when there was one.
keep() {
    local name=$1 found=0 file
    mkdir -p "Fuzz/$name/regressions"
    for file in "$out/$name/artifacts/"*; do
        [ -f "$file" ] || continue
        cp "$file" "Fuzz/$name/regressions/"
        echo "fuzz.sh: $name: kept $(basename "$file") in Fuzz/$name/regressions/" >&2
        found=1
    done
    return $found
}

run() {
    local name=$1 target=$out/$1
    mkdir -p "$target/corpus" "$target/artifacts"
    rm -f "$target/artifacts/"*
    local log=$target/run.log status=0
    echo "fuzz.sh: $name: running ${seconds} s (log: $log)"
    "$target/$name" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$target/artifacts/" "$target/corpus" "Fuzz/$name/corpus" > "$log" 2>&1 || status=$?
    local runs rate
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    local coverage
    coverage=$(grep -o 'cov: [0-9]*' "$log" | tail -1 || true)
    printf 'fuzz.sh: %s: %s executions in %s s, %s exec/s, %s, exit %s\n' \
        "$name" "${runs:-?}" "$seconds" "${rate:-?}" "${coverage:-cov: ?}" "$status"
    if ! keep "$name" || [ "$status" != 0 ]; then
        grep -m 20 -E 'ERROR|Fatal error|precondition|SUMMARY|==[0-9]+==' "$log" >&2 || tail -20 "$log" >&2
        return 1
    fi
}

replay() {
    local name=$1 target=$out/$1
    local inputs=()
    local file
    for file in "Fuzz/$name/regressions/"* "Fuzz/$name/corpus/"*; do
        [ -f "$file" ] && inputs+=("$file")
    done
    if [ ${#inputs[@]} -eq 0 ]; then
        echo "fuzz.sh: $name: nothing to replay"
        return 0
    fi
    local log=$target/replay.log
    if "$target/$name" -timeout=10 -rss_limit_mb=2048 "${inputs[@]}" > "$log" 2>&1; then
        echo "fuzz.sh: $name: replayed ${#inputs[@]} inputs, no failure"
    else
        echo "fuzz.sh: $name: replay FAILED (log: $log)" >&2
        grep -m 20 -E 'Running:|ERROR|Fatal error|SUMMARY' "$log" >&2 || tail -20 "$log" >&2
        return 1
    fi
}

failed=0
for name in "${names[@]}"; do
    [ -d "Fuzz/$name" ] || { echo "fuzz.sh: no target Fuzz/$name" >&2; exit 64; }
    build "$name" || exit 2
    case $mode in
        run) run "$name" || failed=1 ;;
        replay) replay "$name" || failed=1 ;;
        build) ;;
    esac
done
exit $failed
