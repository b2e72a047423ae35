import Foundation

extension UTCOffsetTable {
    /// The offsets of the IANA zone `identifier` between two instants, sampled once a day with
    /// Foundation's `TimeZone` and bisected to the millisecond where the offset changes. nil when
    /// Foundation does not know the zone. This is the only place ESSCriteria touches Foundation.
    public init?(timeZoneIdentifier identifier: String, fromUTCMS: Int64, toUTCMS: Int64) {
        guard let zone = TimeZone(identifier: identifier) else { return nil }
        func offset(_ ms: Int64) -> Int {
            zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(ms) / 1000))
        }
        var transitions = [Transition(fromUTCMS: .min, offsetSeconds: offset(fromUTCMS))]
        var t = fromUTCMS
        while t < toUTCMS {
            let next = min(t + 86_400_000, toUTCMS)
            let a = offset(t)
            let b = offset(next)
            if a != b {
                var lo = t
                var hi = next
                while hi - lo > 1 {
                    let mid = lo + (hi - lo) / 2
                    if offset(mid) == a { lo = mid } else { hi = mid }
                }
                transitions.append(Transition(fromUTCMS: hi, offsetSeconds: b))
            }
            t = next
        }
        self.init(transitions: transitions)
    }
}
