//! SIP digest authentication (RFC 2617 / RFC 3261 section 22) from the server's side, with
//! the secret kept as HA1 = MD5(user:realm:password), so agents' phone passwords are never
//! stored in clear.

use md5::{Digest, Md5};

/// The realm the gateway challenges its own extensions with.
pub const SIP_REALM: &str = "switchboard";

fn md5_hex(text: &str) -> String {
    Md5::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// HA1 for `user` in `realm` with `password`.
pub fn ha1(user: &str, realm: &str, password: &str) -> String {
    md5_hex(&format!("{user}:{realm}:{password}"))
}

/// The `response` a client must send for `method` and the request `uri`, with `qop=auth`
/// parameters (`nc` as written, 8 hex digits, and `cnonce`) when the client used them.
pub fn response(
    ha1: &str,
    nonce: &str,
    method: &str,
    uri: &str,
    qop_auth: Option<(&str, &str)>,
) -> String {
    let ha2 = md5_hex(&format!("{method}:{uri}"));
    match qop_auth {
        Some((nc, cnonce)) => md5_hex(&format!("{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")),
        None => md5_hex(&format!("{ha1}:{nonce}:{ha2}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_2617_example() {
        // RFC 2617 section 3.5 (HTTP digest, same arithmetic).
        let h = ha1("Mufasa", "testrealm@host.com", "Circle Of Life");
        assert_eq!(h, "939e7578ed9e3c518a452acee763bce9");
        let r = response(
            &h,
            "dcd98b7102dd2f0e8b11d0f600bfb0c093",
            "GET",
            "/dir/index.html",
            Some(("00000001", "0a4f113b")),
        );
        assert_eq!(r, "6629fae49393a05397450978507c4ef1");
    }
}
