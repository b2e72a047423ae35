#if canImport(Glibc)
    internal import Glibc
#endif

/// What essd's start-up needs of the addresses and paths a site file gives, so that the
/// loader (and with it `essd --check-config` and `essctl config check`) refuses what start-up
/// would refuse or silently fail on. Pure: each rule returns the problem in words, or nil.
///
/// - Addresses: libmodbus 3.1.6's `modbus_new_tcp` keeps at most 15 characters and connects
///   with `inet_addr(3)`, so a device's `host` must be an IPv4 address (a host name or an
///   IPv6 address never connects); the metrics endpoint binds with `inet_pton(3)`, IPv4 too.
///   Both are read as four decimal numbers 0...255 without leading zeros (`inet_addr` would
///   read "010" as octal 8).
/// - Paths: no NUL byte (a C string ends there), each component at most `NAME_MAX` bytes,
///   the whole within `PATH_MAX` with room for the store's own file names; a status socket
///   path fits `sockaddr_un.sun_path`.
enum StartupRules {
    /// `NAME_MAX`: the longest file name.
    static let maxComponentBytes = Int(NAME_MAX)
    /// `PATH_MAX` less a NUL and room for the longest file name essd puts in a folder it is given.
    static let maxDirectoryBytes = Int(PATH_MAX) - 1 - maxComponentBytes - 1
    /// `PATH_MAX` less its NUL: the longest path of a file essd opens (a serial device).
    static let maxFileBytes = Int(PATH_MAX) - 1
    /// `sun_path` of `sockaddr_un` less its NUL (107 bytes on Linux).
    static let maxSocketPathBytes = MemoryLayout.size(ofValue: sockaddr_un().sun_path) - 1

    /// The four bytes of a dotted-decimal IPv4 address ("192.168.1.20"), or nil.
    static func ipv4(_ text: String) -> [UInt8]? {
        let parts = text.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var bytes: [UInt8] = []
        for part in parts {
            guard (1...3).contains(part.count), part.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
                part.count == 1 || part.first != UInt8(ascii: "0")
            else { return nil }
            let value = part.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
            guard value <= 255 else { return nil }
            bytes.append(UInt8(value))
        }
        return bytes
    }

    /// Why `text` cannot be a device's `host`, or nil when it is an IPv4 address.
    static func hostProblem(_ text: String) -> String? {
        if ipv4(text) != nil { return nil }
        let shown = TOMLValue.abbreviated(text)
        let advice = "give the device's IPv4 address, e.g. \"192.168.1.20\""
        if let problem = ipv4Problem(text) { return "\(shown) is not an IPv4 address: \(problem); \(advice)" }
        if text.contains(":") {
            return "\(shown) is an IPv6 address; essd's Modbus library (libmodbus 3.1.6, modbus_new_tcp) connects over IPv4 only: \(advice)"
        }
        if let problem = hostNameProblem(text) {
            return "\(shown) is neither an IPv4 address nor a host name: \(problem); \(advice)"
        }
        return "\(shown) is a host name; essd's Modbus library (libmodbus 3.1.6, modbus_new_tcp) does not resolve names and connects to IPv4 addresses only: \(advice)"
    }

    /// Why a text of four dot-separated numbers is not an IPv4 address; nil when it does not
    /// look like one at all (or is one).
    static func ipv4Problem(_ text: String) -> String? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCIIDigitCharacter) }) else {
            // Dotted numbers of the wrong count ("10.0.0", "1.2.3.4.5").
            if !parts.isEmpty, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCIIDigitCharacter) }) {
                return "an address has four numbers, found \(parts.count)"
            }
            return nil
        }
        for part in parts {
            if part.count > 1, part.first == "0" { return "\(part) has a leading zero (read as octal by some C functions)" }
            if part.count > 3 || Int(part)! > 255 { return "\(part) is more than 255" }
        }
        return nil
    }

    /// Why `text` is not a DNS host name (RFC 1123 syntax: at most 253 bytes, labels of 1 to
    /// 63 letters, digits, '-' or '_' not starting or ending with '-'), or nil.
    static func hostNameProblem(_ text: String) -> String? {
        var name = Substring(text)
        if name.hasSuffix(".") { name = name.dropLast() }
        guard name.utf8.count <= 253 else { return "a host name has at most 253 bytes, this has \(text.utf8.count)" }
        for label in name.split(separator: ".", omittingEmptySubsequences: false) {
            guard !label.isEmpty else { return "it has an empty label (two dots, or a leading dot)" }
            guard label.utf8.count <= 63 else { return "a label has at most 63 bytes, one has \(label.utf8.count)" }
            guard label.utf8.allSatisfy({ isLetterOrDigit($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") })
            else { return "labels hold only letters, digits, '-' and '_'" }
            guard label.first != "-", label.last != "-" else { return "a label cannot start or end with '-'" }
        }
        return nil
    }

    /// Why `path` cannot name a folder or file essd uses, or nil. `maxBytes` bounds the whole.
    static func pathProblem(_ path: String, maxBytes: Int) -> String? {
        if path.utf8.contains(0) { return "contains a NUL byte (\\u0000), where the path would end for the system" }
        guard path.utf8.count <= maxBytes else {
            return "is \(path.utf8.count) bytes long; a path here has at most \(maxBytes) bytes"
        }
        for component in path.utf8.split(separator: UInt8(ascii: "/")) where component.count > maxComponentBytes {
            return "has a component of \(component.count) bytes; a file or folder name has at most \(maxComponentBytes) bytes"
        }
        return nil
    }

    private static func isLetterOrDigit(_ b: UInt8) -> Bool {
        (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
            || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9"))
    }
}

extension Character {
    fileprivate var isASCIIDigitCharacter: Bool { isASCII && isNumber }
}
