public import ESSCore
internal import Foundation

/// Loads site files and register profiles into validated ESSCore values.
///
/// Owns reading the files and turning every problem into a `ConfigurationIssue` with its file,
/// line and key; it checks the whole site and every profile it names before throwing, so one
/// run lists every problem. It does not watch files or reload: the daemon calls it again.
/// The file formats are described in docs/configuration.md.
public enum ConfigurationLoader {
    /// Loads and validates a site file and the profiles it names. Collects ALL issues before throwing.
    ///
    /// Profiles are read from `profile_directory` (default "profiles"), relative to the folder
    /// of `path`.
    public static func loadSite(path: String) throws(ConfigurationError) -> SiteConfiguration {
        let text = try readFile(path)
        let defaultDirectory = SiteReader.join(SiteReader.directory(of: path), "profiles")
        return try parseSite(text: text, file: path, profileDirectory: defaultDirectory)
    }

    /// Loads and validates one profile file; its `[profile] name` must equal the file's base name.
    public static func loadProfile(path: String) throws(ConfigurationError) -> RegisterProfile {
        let text = try readFile(path)
        return try parseProfile(text: text, file: path)
    }

    /// Validates site text. `file` names it in issues, and a relative `profile_directory` in
    /// the text is resolved against the folder of `file`; without that key, profiles are read
    /// from `profileDirectory`.
    public static func parseSite(
        text: String, file: String, profileDirectory: String
    ) throws(ConfigurationError) -> SiteConfiguration {
        let log = IssueLog()
        let files = ProfileFiles(read: readIfPresent, list: listProfiles)
        let site = SiteReader.read(text: text, file: file, profileDirectory: profileDirectory, files: files, log: log)
        guard let site, log.isEmpty else { throw ConfigurationError(issues: log.ordered) }
        return site
    }

    /// Validates profile text; `file` names it in issues and its base name must equal
    /// `[profile] name`.
    public static func parseProfile(text: String, file: String) throws(ConfigurationError) -> RegisterProfile {
        let log = IssueLog()
        let loaded = ProfileReader.read(text: text, file: file, log: log)
        guard let profile = loaded.profile, log.isEmpty else { throw ConfigurationError(issues: log.ordered) }
        return profile
    }

    // MARK: File access

    private static func readFile(_ path: String) throws(ConfigurationError) -> String {
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            let reason = FileManager.default.fileExists(atPath: path) ? "cannot be read as UTF-8 text" : "does not exist"
            throw ConfigurationError(issues: [
                ConfigurationIssue(file: path, line: 0, key: "(file)", message: "the file \(reason); check the path")
            ])
        }
    }

    private static func readIfPresent(_ path: String) -> String? {
        try? String(contentsOfFile: path, encoding: .utf8)
    }

    private static func listProfiles(_ directory: String) -> [String]? {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.isEmpty ? "." : directory) else {
            return nil
        }
        return names.filter { $0.hasSuffix(".toml") }.map { String($0.dropLast(5)) }
    }
}
