/// Locale-independent decimal text with a fixed number of decimals: "1234.500", "-0.125".
/// Owns number formatting for the evidence files; never uses `String(format:)` or a locale.
/// Unknown values (NaN, ±infinity, nil) are the empty string, never "0".
public enum FixedDecimal {
    /// `value` rounded half away from zero to `decimals` (0...9) places; "" when not finite.
    /// A value that rounds to zero prints without a sign ("0.000", never "-0.000").
    public static func format(_ value: Double?, decimals: Int) -> String {
        guard let value, value.isFinite else { return "" }
        precondition((0...9).contains(decimals), "FixedDecimal: 0...9 decimals")
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let scaled = (abs(value) * scale).rounded(.toNearestOrAwayFromZero)
        // Beyond 2^63 the integer path cannot hold it; such a value has no meaningful decimals.
        guard scaled < 9.2e18 else { return value.description }
        let units = UInt64(scaled)
        var digits = String(units)
        if decimals > 0 {
            if digits.count <= decimals {
                digits = String(repeating: "0", count: decimals - digits.count + 1) + digits
            }
            digits.insert(".", at: digits.index(digits.endIndex, offsetBy: -decimals))
        }
        return (value < 0 && units != 0 ? "-" : "") + digits
    }

    /// A fraction (0…1) as a percentage rounded *down* to `decimals`, so a coverage just under
    /// a threshold never prints as the threshold ("99.89 %" → "99.8" at 1 decimal).
    public static func percentDown(_ fraction: Double, decimals: Int) -> String {
        guard fraction.isFinite else { return "" }
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        // The small epsilon keeps 0.875 × 100 × 10 = 874.9999… at 875.
        let floored = ((fraction * 100 * scale) + 1e-9).rounded(.down) / scale
        return format(floored, decimals: decimals)
    }
}
