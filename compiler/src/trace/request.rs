//! `--request 'METHOD URL'` and `-H 'name: value'` into the request a client sends.

use crate::routetest::engine::SentRequest;

/// Parses `GET https://shop.example.com/cart?x=1` (the method is optional, GET by
/// default). The listener port is the URL's port, else the scheme's (80, 443), unless
/// `port` overrides it.
pub fn parse_request(line: &str, headers: &[String], port: Option<u32>) -> Result<SentRequest, String> {
    let line = line.trim();
    let (method, url) = match line.split_once(char::is_whitespace) {
        Some((method, url)) => (method.to_string(), url.trim()),
        None => ("GET".to_string(), line),
    };
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(format!("--request: {method:?} is not an HTTP method"));
    }
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| format!("--request: {url:?} is not an absolute URL (http://host/path)"))?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return Err(format!("--request: scheme {scheme:?} is not http or https"));
    }
    let split = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(split);
    if authority.is_empty() {
        return Err(format!("--request: {url:?} has no host"));
    }
    let path = match path {
        "" => "/".to_string(),
        p if p.starts_with('?') => format!("/{p}"),
        p => p.to_string(),
    };
    let url_port = authority
        .rsplit_once(':')
        .filter(|(host, _)| !host.ends_with(']') || authority.starts_with('['))
        .and_then(|(_, p)| p.parse::<u32>().ok());
    let default_port = if scheme == "https" { 443 } else { 80 };
    let mut parsed_headers = Vec::new();
    for header in headers {
        let (name, value) = header
            .split_once(':')
            .ok_or_else(|| format!("-H {header:?}: expected 'name: value'"))?;
        let name = name.trim().to_ascii_lowercase();
        if name.is_empty() {
            return Err(format!("-H {header:?}: empty header name"));
        }
        parsed_headers.push((name, value.trim().to_string()));
    }
    // A TLS client names the URL's host in its SNI.
    let sni = (scheme == "https").then(|| switchyard_bytecode::eval::normalize_host(authority).to_string());
    Ok(SentRequest {
        sni,
        port: port.or(url_port).unwrap_or(default_port),
        method: method.to_ascii_uppercase(),
        scheme,
        authority: authority.to_string(),
        path,
        headers: parsed_headers,
    })
}

#[cfg(test)]
mod tests {
    use super::parse_request;

    #[test]
    fn request_line_gives_method_host_path_and_port() {
        let r = parse_request(
            "POST https://shop.example.com/cart?x=1",
            &["X-User: a".into()],
            None,
        )
        .unwrap();
        assert_eq!(
            (
                r.method.as_str(),
                r.scheme.as_str(),
                r.authority.as_str(),
                r.path.as_str(),
                r.port
            ),
            ("POST", "https", "shop.example.com", "/cart?x=1", 443)
        );
        assert_eq!(r.headers, vec![("x-user".to_string(), "a".to_string())]);
    }

    #[test]
    fn method_defaults_to_get_and_url_port_is_the_listener_port() {
        let r = parse_request("http://a.example:8080", &[], None).unwrap();
        assert_eq!((r.method.as_str(), r.path.as_str(), r.port), ("GET", "/", 8080));
        assert_eq!(
            parse_request("http://a.example:8080/", &[], Some(81))
                .unwrap()
                .port,
            81
        );
    }

    #[test]
    fn malformed_requests_are_refused_with_the_reason() {
        assert!(
            parse_request("GET /relative", &[], None)
                .unwrap_err()
                .contains("absolute URL")
        );
        assert!(
            parse_request("GET ftp://x/", &[], None)
                .unwrap_err()
                .contains("scheme")
        );
        assert!(
            parse_request("GET http://x/", &["novalue".into()], None)
                .unwrap_err()
                .contains("-H")
        );
    }
}
