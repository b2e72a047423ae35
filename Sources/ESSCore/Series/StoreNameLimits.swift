/// The byte lengths the store's file formats give the names they keep: the site id (tier
/// header: a UInt16 length and 256 bytes), group ids (a device id, or `siteGroupID`: one byte
/// of length in the catalogue) and tier names (they name files: `<name>.tier`). The store's
/// plan refuses names outside them and the configuration loader refuses them earlier, at their
/// line; both read them from here. Owns no check itself.
public enum StoreNameLimits {
    /// Bytes of UTF-8 in a site id.
    public static let siteIDBytes = 1...256
    /// Bytes of UTF-8 in a group id (device ids).
    public static let groupIDBytes = 1...255
    /// Bytes of a tier name.
    public static let tierNameBytes = 1...31
    /// The group id of the site's derived series (`SiteAggregator`); no device may take it.
    public static let siteGroupID = "site"
}
