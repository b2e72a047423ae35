public import ESSCore
public import ESSCriteria
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
        let files = ProfileFiles(read: ConfigurationFile.read, list: listProfiles)
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

    // MARK: Tariffs and policies

    /// The criteria settings of a site file: its tariff, the tariff and policy folders
    /// (relative to the file's folder; defaults "tariffs" and "policies") and design facts.
    /// The rest of the file is not checked here: `loadSite` does that (and these keys too).
    public static func loadSiteCriteria(path: String) throws(ConfigurationError) -> SiteCriteriaSettings {
        try parseSiteCriteria(text: try readFile(path), file: path)
    }

    /// Reads the criteria keys of site text; `file` names it and anchors relative folders.
    public static func parseSiteCriteria(text: String, file: String) throws(ConfigurationError) -> SiteCriteriaSettings {
        let log = IssueLog()
        let root: TOMLTable
        do {
            root = try TOMLParser.parse(text, file: file)
        } catch {
            throw ConfigurationError(issues: [ConfigurationIssue(file: error.file, line: error.position.line, key: "syntax error at column \(error.position.column)", message: error.message)])
        }
        let top = TableReader(table: root, file: file, path: "", log: log)
        let settings = SiteCriteriaReader.read(top: top, site: top.table("site"), file: file, files: nil, log: log)
        guard log.isEmpty else { throw ConfigurationError(issues: log.ordered) }
        return settings
    }

    /// Loads and validates a tariff file (schema: docs/indicators.md); its `id` must equal the base name.
    public static func loadTariff(path: String) throws(ConfigurationError) -> TariffCalendar {
        try parseTariff(text: try readFile(path), file: path)
    }

    /// Validates tariff text; `file` names it in issues and its base name must equal `id`.
    public static func parseTariff(text: String, file: String) throws(ConfigurationError) -> TariffCalendar {
        let log = IssueLog()
        guard let tariff = TariffReader.read(text: text, file: file, log: log), log.isEmpty else {
            throw ConfigurationError(issues: log.ordered)
        }
        return tariff
    }

    /// Loads and validates a policy file (schema: docs/indicators.md); its `id` must equal the base name.
    public static func loadPolicy(path: String) throws(ConfigurationError) -> Policy {
        try parsePolicy(text: try readFile(path), file: path)
    }

    /// Validates policy text; `file` names it in issues and its base name must equal `id`.
    public static func parsePolicy(text: String, file: String) throws(ConfigurationError) -> Policy {
        let log = IssueLog()
        guard let policy = PolicyReader.read(text: text, file: file, log: log), log.isEmpty else {
            throw ConfigurationError(issues: log.ordered)
        }
        return policy
    }

    /// The tariff `id`: `<directory>/<id>.toml` when that file exists, else the built-in tariff
    /// of that id. `path` is the file read, nil for a built-in. Throws when the file has issues
    /// or neither exists (the issue lists what is known).
    public static func tariff(id: String, directory: String) throws(ConfigurationError) -> (tariff: TariffCalendar, path: String?) {
        let path = SiteReader.join(directory, id + ".toml")
        if FileManager.default.fileExists(atPath: path) { return (try loadTariff(path: path), path) }
        if let builtIn = BuiltInTariffs.calendar(id: id) { return (builtIn, nil) }
        let known = Set((listProfiles(directory) ?? []) + BuiltInTariffs.all.map(\.id)).sorted()
        throw ConfigurationError(issues: [
            ConfigurationIssue(file: path, line: 0, key: "(file)", message: "no such tariff file and no built-in tariff \"\(id)\"; known: \(known.joined(separator: ", "))")
        ])
    }

    /// The policy `id`: `<directory>/<id>.toml` when that file exists, else the built-in policy
    /// of that id. `path` is the file read, nil for a built-in.
    public static func policy(id: String, directory: String) throws(ConfigurationError) -> (policy: Policy, path: String?) {
        let path = SiteReader.join(directory, id + ".toml")
        if FileManager.default.fileExists(atPath: path) { return (try loadPolicy(path: path), path) }
        if let builtIn = BuiltInPolicies.policy(id: id) { return (builtIn, nil) }
        let known = Set((listProfiles(directory) ?? []) + BuiltInPolicies.all.map(\.id)).sorted()
        throw ConfigurationError(issues: [
            ConfigurationIssue(file: path, line: 0, key: "(file)", message: "no such policy file and no built-in policy \"\(id)\"; known: \(known.joined(separator: ", "))")
        ])
    }

    // MARK: File access

    /// The text of `path` (at most `ConfigurationFile.maxBytes`), or the issue saying why not;
    /// `what` names the kind of file in the message ("file", "map file").
    static func readFile(_ path: String, what: String = "file") throws(ConfigurationError) -> String {
        let message: String
        switch ConfigurationFile.read(path) {
        case .text(let text): return text
        case .missing: message = "the \(what) does not exist; check the path"
        case .refused(let reason): message = reason
        }
        throw ConfigurationError(issues: [ConfigurationIssue(file: path, line: 0, key: "(file)", message: message)])
    }

    private static func listProfiles(_ directory: String) -> [String]? {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.isEmpty ? "." : directory) else {
            return nil
        }
        return names.filter { $0.hasSuffix(".toml") }.map { String($0.dropLast(5)) }
    }
}
