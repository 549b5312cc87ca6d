//! The reverse proxies in front of leverbridge (`LEVERBRIDGE_TRUSTED_PROXIES`), whose
//! forwarding headers are believed; `web::client_address` reads the client's address with them.

use std::net::IpAddr;

use anyhow::anyhow;
use ipnet::IpNet;

/// The reverse proxies whose forwarding headers are believed: addresses or CIDR ranges.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// A comma- or space-separated list such as `127.0.0.1, 10.0.0.0/8, ::1`.
    pub fn parse(raw: &str) -> anyhow::Result<TrustedProxies> {
        raw.split(|c: char| c == ',' || c.is_whitespace())
            .filter(|item| !item.is_empty())
            .map(|item| {
                item.parse::<IpNet>()
                    .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| {
                        anyhow!(
                            "`{item}` is neither an IP address nor a CIDR range such as 10.0.0.0/8"
                        )
                    })
            })
            .collect::<anyhow::Result<_>>()
            .map(TrustedProxies)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `address` is one of the trusted proxies (IPv4-mapped IPv6 counted as IPv4).
    pub fn trusts(&self, address: IpAddr) -> bool {
        let address = unmapped(address);
        self.0.iter().any(|net| net.contains(&address))
    }
}

/// An IPv4 address written as IPv6 (`::ffff:10.0.0.1`) is that IPv4 address.
pub fn unmapped(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_of_addresses_and_ranges_is_read_and_nonsense_refused() {
        let parsed = TrustedProxies::parse(" 127.0.0.1,::1  10.0.0.0/8 ").unwrap();
        assert_eq!(parsed.0.len(), 3);
        assert!(TrustedProxies::parse("").unwrap().is_empty());
        let err = TrustedProxies::parse("10.0.0.0/8, proxy.local").unwrap_err();
        assert!(err.to_string().contains("proxy.local"), "{err}");
    }
}
