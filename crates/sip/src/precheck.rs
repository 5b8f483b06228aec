//! What a SIP request must be before the stack sees it, checked on the raw datagram, and the
//! RFC 3261 answer when it is not.
//!
//! rsipstack parses leniently (it answers a `SIP/7.0` request in that version, queues an INVITE
//! with `Max-Forwards: 0`, routes any URI scheme) and drops what it cannot parse without a
//! word. [`check`] looks at the start line and the few headers that decide whether a request
//! can be served at all, and says what to do: hand it on, answer it ourselves (505, 483, 416,
//! 501 or 400, with the headers copied so the sender can match the answer to its
//! transaction), or drop it when no answer could be routed (no Via) or it asks for none (a
//! bad ACK). Responses and keep-alives are handed on untouched: the stack matches responses
//! to its own transactions.

/// The methods the gateway knows; a request with any other gets 501 Not Implemented (RFC
/// 3261 §8.2.1). Known methods it does not serve get 405 from the stack, as before.
const KNOWN_METHODS: &[&str] = &[
    "INVITE",
    "ACK",
    "BYE",
    "CANCEL",
    "OPTIONS",
    "REGISTER",
    "PRACK",
    "SUBSCRIBE",
    "NOTIFY",
    "PUBLISH",
    "INFO",
    "REFER",
    "MESSAGE",
    "UPDATE",
];

/// The URI schemes a Request-URI may use; any other gets 416 (RFC 3261 §8.2.2.1).
const SCHEMES: &[&str] = &["sip", "sips", "tel"];

/// Headers a request carries at most once (§7.3.1: only those whose grammar is a
/// comma-separated list may repeat).
const SINGLE: &[&str] =
    &["call-id", "from", "to", "cseq", "max-forwards", "content-length", "content-type"];

/// What to do with one datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// A request or response the stack may take.
    Pass,
    /// Answer the sender with this response (the whole datagram) and go no further.
    Answer {
        /// The status code.
        code: u16,
        /// Why, for the log and the metric.
        why: &'static str,
        /// The response to send back.
        response: Vec<u8>,
    },
    /// Nothing can or should be answered: count it and drop it.
    Drop {
        /// Why, for the log and the metric.
        why: &'static str,
    },
}

/// One header line, unfolded: its name as written and its value.
struct HeaderLine<'a> {
    name: &'a str,
    value: String,
}

/// The long name of a header given in compact form (RFC 3261 §7.3.3), lower case.
fn long_name(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    let long = match lower.as_str() {
        "v" => "via",
        "f" => "from",
        "t" => "to",
        "i" => "call-id",
        "l" => "content-length",
        "m" => "contact",
        "c" => "content-type",
        _ => return lower,
    };
    long.to_owned()
}

/// Checks one datagram received on the SIP port.
pub fn check(datagram: &[u8]) -> Verdict {
    if datagram.iter().all(u8::is_ascii_whitespace) {
        // A keep-alive (RFC 5626: CRLF CRLF, answered with CRLF by the stack).
        return Verdict::Pass;
    }
    let (head, body) = match find(datagram, b"\r\n\r\n") {
        Some(at) => (&datagram[..at], &datagram[at + 4..]),
        None => match find(datagram, b"\n\n") {
            Some(at) => (&datagram[..at], &datagram[at + 2..]),
            // No end of the headers: nothing that could be answered reliably.
            None => return Verdict::Drop { why: "no end of headers" },
        },
    };
    let Ok(head) = std::str::from_utf8(head) else {
        return Verdict::Drop { why: "headers are not UTF-8" };
    };
    let mut lines = head.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let start = lines.next().unwrap_or("");
    if start.starts_with("SIP/") {
        return Verdict::Pass;
    }
    let headers = unfold(lines);
    let one = |name: &str| {
        headers.iter().find(|h| long_name(h.name) == name).map(|h| h.value.trim().to_owned())
    };
    if one("via").is_none() {
        // A response goes back along the Via: without one none can be routed (§18.2.2).
        return Verdict::Drop { why: "no Via" };
    }
    let answer_with = |code: u16, reason: &str, why: &'static str, extra: &str| Verdict::Answer {
        code,
        why,
        response: response(code, reason, &headers, extra),
    };
    let answer = |code: u16, reason: &str, why: &'static str| answer_with(code, reason, why, "");
    let parts: Vec<&str> = start.split(' ').collect();
    let [method, uri, version] = parts.as_slice() else {
        return answer(400, "Bad Request Line", "a request line that is not three tokens");
    };
    if method.is_empty() || uri.is_empty() || version.is_empty() {
        return answer(400, "Bad Request Line", "a request line with extra spaces");
    }
    let is_ack = *method == "ACK";
    // An ACK is never answered (§17.2.3): a bad one is dropped.
    let answer = |code: u16, reason: &str, why: &'static str| {
        if is_ack { Verdict::Drop { why } } else { answer(code, reason, why) }
    };
    if !version.eq_ignore_ascii_case("SIP/2.0") {
        return answer(505, "Version Not Supported", "a SIP version other than 2.0");
    }
    if uri.starts_with('<') {
        return answer(400, "Bad Request-URI", "a Request-URI in angle brackets");
    }
    let scheme = uri.split_once(':').map(|(s, _)| s.to_ascii_lowercase());
    if !scheme.as_deref().is_some_and(|s| SCHEMES.contains(&s)) {
        return answer(416, "Unsupported URI Scheme", "a Request-URI scheme other than sip");
    }
    if unbracketed_ipv6(uri) {
        // RFC 5118 §4.2: `sip:2001:db8::10` cannot be told from a host and a port.
        return answer(400, "Bad Request-URI", "an IPv6 address without brackets");
    }
    if !method.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b)) {
        return answer(400, "Bad Method", "a method that is not a token");
    }
    if !KNOWN_METHODS.contains(method) {
        return answer(501, "Not Implemented", "an unknown method");
    }
    for required in ["from", "to", "call-id", "cseq"] {
        if one(required).is_none_or(|v| v.is_empty()) {
            return answer(400, "Missing Header", "a required header is missing");
        }
    }
    for single in SINGLE {
        if headers.iter().filter(|h| long_name(h.name) == *single).count() > 1 {
            return answer(400, "Duplicate Header", "a header allowed once appears twice");
        }
    }
    if ["from", "to"].iter().any(|party| open_quote(&one(party).unwrap_or_default())) {
        return answer(400, "Unbalanced Quotes", "a display name with an unclosed quote");
    }
    let cseq = one("cseq").unwrap_or_default();
    let mut cseq_parts = cseq.split_whitespace();
    // Less than 2**31 (§8.1.1.5).
    let number = cseq_parts.next().and_then(|n| n.parse::<u32>().ok()).filter(|n| *n < 1 << 31);
    let cseq_method = cseq_parts.next();
    if number.is_none() || cseq_parts.next().is_some() {
        return answer(400, "Bad CSeq", "a CSeq that is not a number and a method");
    }
    if cseq_method != Some(method) {
        return answer(400, "CSeq Method Mismatch", "a CSeq method other than the request's");
    }
    if let Some(forwards) = one("max-forwards") {
        match forwards.parse::<u8>() {
            Ok(0) if *method != "OPTIONS" && *method != "REGISTER" => {
                return answer(483, "Too Many Hops", "Max-Forwards is 0");
            }
            Ok(_) => {}
            Err(_) => return answer(400, "Bad Max-Forwards", "a Max-Forwards that is no number"),
        }
    }
    if let Some(length) = one("content-length") {
        match length.parse::<usize>() {
            Ok(length) if length > body.len() => {
                // Over UDP the whole message is in the datagram (§18.3).
                return answer(400, "Bad Content-Length", "a Content-Length past the datagram");
            }
            Ok(_) => {}
            Err(_) => {
                return answer(400, "Bad Content-Length", "a Content-Length that is no number");
            }
        }
    }
    let is_cancel = *method == "CANCEL";
    if let Some(required) = one("require").filter(|r| !r.is_empty() && !is_cancel) {
        // We support no extension a request could require (§8.2.2.3): each is listed back.
        let unsupported = format!("Unsupported: {required}\r\n");
        return answer_with(420, "Bad Extension", "a required extension", &unsupported);
    }
    if *method == "INVITE"
        && !body.is_empty()
        && let Some(kind) = one("content-type")
        && !kind.to_ascii_lowercase().starts_with("application/sdp")
    {
        // The offer must be SDP (§21.4.13): say what we accept.
        let accept = "Accept: application/sdp\r\n";
        return answer_with(415, "Unsupported Media Type", "a body that is not SDP", accept);
    }
    Verdict::Pass
}

/// Whether a sip or sips URI's host is an IPv6 address written without its brackets (more
/// than one colon in the host and port).
fn unbracketed_ipv6(uri: &str) -> bool {
    let lower = uri.to_ascii_lowercase();
    let Some(rest) = lower.strip_prefix("sip:").or_else(|| lower.strip_prefix("sips:")) else {
        return false;
    };
    let host_port = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
    let host_port = host_port.split([';', '?']).next().unwrap_or("");
    !host_port.starts_with('[') && host_port.matches(':').count() > 1
}

/// Whether a quoted string in `value` is left open (a backslash escapes the next character
/// inside quotes, §25.1).
fn open_quote(value: &str) -> bool {
    let (mut quoted, mut escaped) = (false, false);
    for c in value.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            _ => {}
        }
    }
    quoted
}

/// The header lines, with continuation lines (starting with a space or a tab) joined to the
/// line before (§7.3.1).
fn unfold<'a>(lines: impl Iterator<Item = &'a str>) -> Vec<HeaderLine<'a>> {
    let mut out: Vec<HeaderLine<'a>> = Vec::new();
    for line in lines {
        if line.starts_with(' ') || line.starts_with('\t') {
            if let Some(last) = out.last_mut() {
                last.value.push(' ');
                last.value.push_str(line.trim());
            }
            continue;
        }
        if let Some((name, value)) = line.split_once(':') {
            out.push(HeaderLine { name: name.trim(), value: value.trim().to_owned() });
        }
    }
    out
}

/// A response to the request whose headers these are: its Vias in order, From, To (with a tag
/// of ours when it has none), Call-ID and CSeq, and no body.
fn response(code: u16, reason: &str, headers: &[HeaderLine<'_>], extra: &str) -> Vec<u8> {
    let mut out = format!("SIP/2.0 {code} {reason}\r\n");
    for name in ["via", "from", "to", "call-id", "cseq"] {
        for h in headers.iter().filter(|h| long_name(h.name) == name) {
            let mut value = h.value.clone();
            if name == "to" && !value.to_ascii_lowercase().contains(";tag=") {
                value.push_str(";tag=sb-precheck");
            }
            let title = match name {
                "via" => "Via",
                "from" => "From",
                "to" => "To",
                "call-id" => "Call-ID",
                _ => "CSeq",
            };
            out.push_str(&format!("{title}: {value}\r\n"));
        }
    }
    out.push_str(extra);
    out.push_str("Content-Length: 0\r\n\r\n");
    out.into_bytes()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests;
