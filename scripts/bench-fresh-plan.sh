# Sourced by the bench scripts: SwiftPM keeps the build plan of the Benchmarks package's path
# dependency (essd) and does not notice source files added to it since, so a new file fails the
# benchmark build ("cannot find type ... in scope"). Drops the plan when any source is newer.
#   bench_fresh_plan SCRATCH   (the Benchmarks package's build folder, e.g. .build)
bench_fresh_plan() {
    local plan="Benchmarks/$1/release/description.json"
    if [ -f "$plan" ] && [ -n "$(find Sources -name '*.swift' -newer "$plan" -print -quit)" ]; then
        rm -f "$plan" "Benchmarks/$1/release.yaml"
    fi
}
