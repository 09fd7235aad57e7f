//! The client address that per-IP rate limits key on. Behind a load balancer every connection comes
//! from the balancer, so its `X-Forwarded-For` names the client; but anyone can send that header,
//! so it is believed only from the peers listed in `TRUSTED_PROXIES` (DESIGN.md section 5).

use std::net::IpAddr;

/// One trusted address or network (`10.0.0.7`, `10.0.0.0/8`, `fd00::/8`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Parses `ip` or `ip/prefix`; `None` when either part is invalid.
    pub fn parse(raw: &str) -> Option<Cidr> {
        let (ip, prefix) = match raw.trim().split_once('/') {
            Some((ip, p)) => (ip.parse::<IpAddr>().ok()?, Some(p.parse::<u8>().ok()?)),
            None => (raw.trim().parse::<IpAddr>().ok()?, None),
        };
        let max = if ip.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(Cidr {
            network: ip,
            prefix,
        })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        // An IPv4 peer may show up as an IPv4-mapped IPv6 address on a dual-stack socket.
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        match (self.network, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                prefix_eq(u32::from(n) as u128, u32::from(a) as u128, self.prefix, 32)
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                prefix_eq(u128::from(n), u128::from(a), self.prefix, 128)
            }
            _ => false,
        }
    }
}

/// True when the first `prefix` of `width` bits of `a` and `b` agree.
fn prefix_eq(a: u128, b: u128, prefix: u8, width: u32) -> bool {
    let shift = width - u32::from(prefix);
    shift >= width || (a >> shift) == (b >> shift)
}

/// The proxies whose `X-Forwarded-For` is believed (`TRUSTED_PROXIES`, empty by default).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Cidr>);

impl TrustedProxies {
    /// Parses a comma-separated list of addresses and networks; the first invalid entry is returned
    /// as the error.
    pub fn parse(raw: &str) -> Result<TrustedProxies, String> {
        let mut out = Vec::new();
        for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            out.push(Cidr::parse(part).ok_or_else(|| part.to_owned())?);
        }
        Ok(TrustedProxies(out))
    }

    /// Whether `ip` is one of the trusted proxies.
    pub fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|c| c.contains(ip))
    }

    /// The client of a request that arrived from `peer` with these `X-Forwarded-For` values: the
    /// peer itself unless it is trusted; else the rightmost forwarded address that is not a
    /// trusted proxy (each proxy appends the address it received from, so entries left of the
    /// first untrusted one may be forged by the client).
    pub fn client_ip<'a>(
        &self,
        peer: IpAddr,
        forwarded_for: impl Iterator<Item = &'a str>,
    ) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let hops: Vec<&str> = forwarded_for
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        let mut client = peer;
        for hop in hops.iter().rev() {
            // An unreadable entry is not an address we can trust or key on: stop at the last good one.
            let Ok(ip) = hop.parse::<IpAddr>() else { break };
            client = ip;
            if !self.trusts(ip) {
                break;
            }
        }
        client
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn networks_and_single_addresses_are_matched_by_prefix() {
        let p = TrustedProxies::parse("10.0.0.0/8, 192.168.1.7,fd00::/8").expect("valid");
        assert!(p.trusts(ip("10.200.3.4")));
        assert!(p.trusts(ip("192.168.1.7")));
        assert!(!p.trusts(ip("192.168.1.8")));
        assert!(p.trusts(ip("fd12::1")));
        assert!(
            p.trusts(ip("::ffff:10.1.1.1")),
            "IPv4-mapped peers count as IPv4"
        );
        assert!(!p.trusts(ip("11.0.0.1")));
        assert_eq!(
            TrustedProxies::parse("10.0.0.0/33"),
            Err("10.0.0.0/33".into())
        );
        assert_eq!(
            TrustedProxies::parse("proxy.local"),
            Err("proxy.local".into())
        );
        assert_eq!(TrustedProxies::parse(""), Ok(TrustedProxies::default()));
        assert!(TrustedProxies::parse("0.0.0.0/0")
            .expect("valid")
            .trusts(ip("8.8.8.8")));
    }

    #[test]
    fn the_header_is_believed_only_from_a_trusted_peer() {
        let p = TrustedProxies::parse("10.0.0.0/8").expect("valid");
        assert_eq!(
            p.client_ip(ip("203.0.113.9"), ["198.51.100.1"].into_iter()),
            ip("203.0.113.9")
        );
        assert_eq!(
            p.client_ip(ip("10.0.0.2"), ["198.51.100.1"].into_iter()),
            ip("198.51.100.1")
        );
        // A client that forges a left entry does not escape its own address.
        assert_eq!(
            p.client_ip(
                ip("10.0.0.2"),
                ["1.1.1.1, 198.51.100.1, 10.0.0.3"].into_iter()
            ),
            ip("198.51.100.1")
        );
        assert_eq!(
            p.client_ip(ip("10.0.0.2"), std::iter::empty()),
            ip("10.0.0.2")
        );
        assert_eq!(
            p.client_ip(ip("10.0.0.2"), ["garbage"].into_iter()),
            ip("10.0.0.2")
        );
    }
}
