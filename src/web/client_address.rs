//! The client's address. A request's TCP peer is the client, unless the peer is one of the
//! trusted reverse proxies (`LEVERBRIDGE_TRUSTED_PROXIES`): then the client is the rightmost hop
//! of `Forwarded` (or, without it, `X-Forwarded-For`) that is not itself a trusted proxy. Anyone
//! else's forwarding headers are ignored, so a client cannot choose the address it is counted as.

use std::net::IpAddr;

use actix_web::http::header::HeaderMap;
use actix_web::HttpRequest;

use crate::domain::trusted_proxies::unmapped;
pub use crate::domain::TrustedProxies;

/// Who the client of a request is, given the trusted proxies.
pub trait ClientAddress {
    /// The client of `req` (see the module's documentation).
    fn client_of(&self, req: &HttpRequest) -> Option<IpAddr>;
    /// The client of a request from `peer` carrying `headers`.
    fn client(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr>;
}

impl ClientAddress for TrustedProxies {
    /// The client of `req` (see the module's documentation).
    fn client_of(&self, req: &HttpRequest) -> Option<IpAddr> {
        self.client(req.peer_addr().map(|a| a.ip()), req.headers())
    }

    /// The client of a request from `peer` carrying `headers`.
    fn client(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        let peer = peer.map(unmapped)?;
        if !self.trusts(peer) {
            return Some(peer);
        }
        let mut client = peer;
        // Nearest hop first; an unreadable hop ("unknown", an obfuscated name) ends the walk at
        // the last proxy that vouched for it.
        for hop in forwarded_hops(headers).iter().rev() {
            let Some(address) = hop_address(hop) else {
                break;
            };
            client = address;
            if !self.trusts(address) {
                break;
            }
        }
        Some(client)
    }
}

/// The hops a request came through, the original client first: `Forwarded`'s `for=` values,
/// or `X-Forwarded-For`'s when there is no `Forwarded`.
fn forwarded_hops(headers: &HeaderMap) -> Vec<String> {
    let joined = |name: &str| -> Vec<String> {
        headers
            .get_all(name)
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .collect()
    };
    let forwarded = joined("forwarded");
    if forwarded.is_empty() {
        return joined("x-forwarded-for");
    }
    forwarded
        .iter()
        .filter_map(|element| {
            element.split(';').find_map(|pair| {
                let (name, value) = pair.split_once('=')?;
                name.trim()
                    .eq_ignore_ascii_case("for")
                    .then(|| value.trim().trim_matches('"').to_owned())
            })
        })
        .collect()
}

/// The address of one hop: `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1` or `[2001:db8::1]:4711`.
fn hop_address(hop: &str) -> Option<IpAddr> {
    if let Ok(address) = hop.parse::<IpAddr>() {
        return Some(unmapped(address));
    }
    if let Some(rest) = hop.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok().map(unmapped);
    }
    let (host, _port) = hop.rsplit_once(':')?;
    host.parse().ok().map(unmapped)
}

/// An IPv4 address that arrived IPv6-mapped, as itself.
#[cfg(test)]
mod tests {
    use actix_web::http::header::{HeaderName, HeaderValue};

    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::from_static(name),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    fn ip(raw: &str) -> Option<IpAddr> {
        Some(raw.parse().unwrap())
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client_and_only_behind_a_trusted_proxy() {
        let trusted = TrustedProxies::parse("10.0.0.0/8, 192.0.2.7").unwrap();
        let forged = headers(&[("x-forwarded-for", "203.0.113.9, 198.51.100.4, 10.1.2.3")]);
        assert_eq!(trusted.client(ip("192.0.2.7"), &forged), ip("198.51.100.4"));
        // Not from a trusted proxy: the headers say nothing.
        assert_eq!(
            trusted.client(ip("198.51.100.66"), &forged),
            ip("198.51.100.66")
        );
        assert_eq!(
            TrustedProxies::default().client(ip("10.0.0.1"), &forged),
            ip("10.0.0.1")
        );
        let standard = headers(&[
            (
                "forwarded",
                "for=203.0.113.9;proto=https, for=\"[2001:db8::5]:4711\"",
            ),
            ("x-forwarded-for", "198.51.100.1"),
        ]);
        assert_eq!(trusted.client(ip("10.0.0.2"), &standard), ip("2001:db8::5"));
        let unknown = headers(&[("forwarded", "for=unknown, for=10.9.9.9")]);
        assert_eq!(trusted.client(ip("10.0.0.2"), &unknown), ip("10.9.9.9"));
        assert_eq!(
            trusted.client(ip("10.0.0.2"), &HeaderMap::new()),
            ip("10.0.0.2")
        );
        assert_eq!(
            trusted.client(ip("::ffff:192.0.2.7"), &forged),
            ip("198.51.100.4")
        );
    }
}
