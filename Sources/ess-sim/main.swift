import ArgumentParser

// Top-level code cannot use `@main`, and from here `run()` resolves to the synchronous
// overload; parse, then call the async body by its own name.
do {
    let command = try SimCommand.parse()
    try await command.runSimulator()
} catch {
    SimCommand.exit(withError: error)
}
