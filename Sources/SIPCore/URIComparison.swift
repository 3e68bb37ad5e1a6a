extension SIPURI {
    /// URI comparison of RFC 3261 §19.1.4:
    /// * a SIP and a SIPS URI are never equivalent;
    /// * userinfo is case-sensitive, everything else case-insensitive;
    /// * characters other than "reserved" ones equal their %HH escape (so `%61lice` = `alice`,
    ///   but `%40` stays distinct from `@`);
    /// * a host name never equals an IP address, and an absent port never equals 5060;
    /// * `user`, `ttl`, `method`, `maddr` and `transport` parameters must appear in both or
    ///   neither and match; other parameters must match where both have them and are ignored
    ///   where only one does;
    /// * URI headers are never ignored: each must appear in both and match.
    ///
    /// Not transitive, as the RFC notes: `;security=on` and `;security=off` each equal the URI
    /// without the parameter, but not each other.
    public func isEquivalent(to other: SIPURI) -> Bool {
        guard isSecure == other.isSecure else { return false }
        guard key(user, caseInsensitive: false) == key(other.user, caseInsensitive: false),
              key(password, caseInsensitive: false) == key(other.password, caseInsensitive: false)
        else { return false }
        guard host.comparisonKey == other.host.comparisonKey, port == other.port else { return false }

        let mine = parameterTable(parameters)
        let theirs = parameterTable(other.parameters)
        for name in ["user", "ttl", "method", "maddr", "transport"].map({ Array($0.utf8) }) where mine[name] != theirs[name] {
            return false
        }
        for (name, value) in mine {
            if let otherValue = theirs[name], otherValue != value { return false }
        }

        guard headers.count == other.headers.count else { return false }
        let myHeaders = headerTable(headers)
        return myHeaders.count == headers.count && myHeaders == headerTable(other.headers)
    }

    private func key(_ component: String?, caseInsensitive: Bool) -> [UInt8]? {
        component.map { Escaping.comparisonKey($0, caseInsensitive: caseInsensitive) }
    }

    /// Parameter name → value comparison keys (a valueless parameter maps to an empty key).
    /// The first occurrence of a name wins.
    private func parameterTable(_ parameters: SIPParameters) -> [[UInt8]: [UInt8]] {
        var table: [[UInt8]: [UInt8]] = [:]
        for parameter in parameters {
            let name = Escaping.comparisonKey(parameter.name, caseInsensitive: true)
            if table[name] == nil {
                table[name] = Escaping.comparisonKey(parameter.value ?? "", caseInsensitive: true)
            }
        }
        return table
    }

    private func headerTable(_ headers: [URIHeader]) -> [[UInt8]: [UInt8]] {
        var table: [[UInt8]: [UInt8]] = [:]
        for header in headers {
            table[Escaping.comparisonKey(header.name, caseInsensitive: true)] =
                Escaping.comparisonKey(header.value, caseInsensitive: false)
        }
        return table
    }
}
