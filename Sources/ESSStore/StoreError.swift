/// Why the store refused an operation: what happened, where, and what to do next.
///
/// Owns the wording of every store failure; it does not log (callers log with their `Logger`).
public struct StoreError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure, for code that reacts to it; the text is in `description`.
    public enum Kind: Sendable, Hashable {
        /// A system call failed (`errno` in `errorNumber`).
        case systemCall
        /// The configuration cannot be stored (bad tier, duplicate group, missing poll interval, ...).
        case invalidConfiguration
        /// The state directory belongs to another site.
        case siteMismatch
        /// A tier's slot length, capacity or retention differs from the stored one.
        case tierMismatch
        /// A file was written by an unknown format version.
        case unknownFormatVersion
        /// A signal's role changed.
        case roleChanged
        /// The new schema drops signals or groups and `allowDroppingSignals` was not passed.
        case signalsRemoved
        /// A header, catalogue or checkpoint file fails its checks (magic, CRC, fields).
        case corruptFile
        /// A tier file is not the size its header and the catalogue say.
        case wrongFileSize
        /// No store in the directory.
        case notFound
        /// Another process writes this store (essd, or an import): see `StoreDirectoryLock`.
        case inUse
        /// The caller passed something the store does not know (group, tier, value count).
        case invalidArgument
    }

    public let kind: Kind
    /// The full message: what happened, where, what to do.
    public let message: String
    /// `errno` for `.systemCall`, else 0.
    public let errorNumber: Int32

    init(_ kind: Kind, _ message: String, errorNumber: Int32 = 0) {
        self.kind = kind
        self.message = message
        self.errorNumber = errorNumber
    }

    public var description: String { message }
}
