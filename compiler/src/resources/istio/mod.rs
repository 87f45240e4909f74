//! Istio networking kinds (`networking.istio.io` v1, v1beta1, v1alpha3: the versions are
//! aliases of one schema): Gateway, VirtualService, DestinationRule, ServiceEntry.
//!
//! Every field of the schema is either read or refused by name: a field Switchyard
//! cannot honour is an error naming the file, line and field, never silently ignored.

pub mod destination_rule;
pub mod gateway;
pub mod service_entry;
pub mod virtual_service;

pub use self::destination_rule::{DestinationRule, Subset};
pub use self::gateway::{IstioGateway, Server, ServerHost};
pub use self::service_entry::{EntryPort, ServiceEntry};
pub use self::virtual_service::{
    Cors, Delegate, Destination, Fault, HeaderOps, Headers, HttpMatch, HttpRule, Mirror, Redirect,
    RedirectPort, Retries, Rewrite, RouteDestination, RuleAction, StringMatch, VirtualService,
};

use super::gateway_api::check_regex;
use super::read::{Obj, Read};

/// The API group of every kind here.
pub const ISTIO_GROUP: &str = "networking.istio.io";
/// `v1`, `v1beta1` and `v1alpha3` serve the same schema.
pub const ISTIO_VERSIONS: [&str; 3] = ["v1", "v1beta1", "v1alpha3"];

/// A list of strings.
pub(crate) fn strings(node: &Obj<'_>, key: &str) -> Read<Vec<String>> {
    node.list(key)?
        .iter()
        .map(|item| item.as_str().map(str::to_string))
        .collect()
}

/// A `StringMatch` (`exact`, `prefix` or `regex`; `{}` = present, as Istio treats an
/// empty matcher in `headers` and `queryParams`).
pub(crate) fn read_string_match(node: &Obj<'_>) -> Read<StringMatch> {
    node.check_keys(&["exact", "prefix", "regex"], &[])?;
    let set: Vec<&str> = ["exact", "prefix", "regex"]
        .into_iter()
        .filter(|k| node.get(k).is_some())
        .collect();
    if set.len() > 1 {
        return Err(node.error("a StringMatch takes one of exact, prefix, regex"));
    }
    if let Some(value) = node.str("exact")? {
        return Ok(StringMatch::Exact(value.to_string()));
    }
    if let Some(value) = node.str("prefix")? {
        return Ok(StringMatch::Prefix(value.to_string()));
    }
    if let Some(value) = node.str("regex")? {
        let at = node.get("regex").unwrap_or_else(|| node.clone());
        // Istio's docs: "regex: '*'" is how a presence match was once written.
        if value == "*" {
            return Ok(StringMatch::Present);
        }
        check_regex(&at, value)?;
        return Ok(StringMatch::Regex(value.to_string()));
    }
    Ok(StringMatch::Present)
}

/// A protobuf `Duration` as Istio's CRDs accept it: Go duration syntax (`1.5s`, `500ms`,
/// `1m30s`, `1h`). Milliseconds, rounded down.
pub(crate) fn parse_istio_duration(text: &str) -> Option<u64> {
    let mut rest = text;
    let mut total = 0f64;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if digits == 0 {
            return None;
        }
        let value: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let (unit, len) = if rest.starts_with("ms") {
            (1.0, 2)
        } else if rest.starts_with("us") || rest.starts_with("µs") {
            (0.001, rest.chars().next()?.len_utf8() + 1)
        } else if rest.starts_with("ns") {
            (0.000_001, 2)
        } else if rest.starts_with('h') {
            (3_600_000.0, 1)
        } else if rest.starts_with('m') {
            (60_000.0, 1)
        } else if rest.starts_with('s') {
            (1_000.0, 1)
        } else {
            return None;
        };
        rest = &rest[len..];
        total += value * unit;
    }
    (total.is_finite() && total >= 0.0).then_some(total as u64)
}

/// An optional duration field, in milliseconds.
pub(crate) fn duration(node: &Obj<'_>, key: &str) -> Read<Option<u64>> {
    let Some(child) = node.get(key) else {
        return Ok(None);
    };
    let text = child.as_str()?;
    parse_istio_duration(text)
        .map(Some)
        .ok_or_else(|| child.error(format!("{text:?} is not a duration (e.g. 1.5s, 500ms, 1m)")))
}

/// An optional `Percent` (`{value: 12.5}`), in parts per million.
pub(crate) fn percent(node: &Obj<'_>, key: &str) -> Read<Option<u32>> {
    let Some(child) = node.get(key) else {
        return Ok(None);
    };
    child.check_keys(&["value"], &[])?;
    let Some(value) = child.get("value") else {
        return Ok(Some(0));
    };
    let text = value.as_str()?;
    match text.parse::<f64>() {
        Ok(v) if (0.0..=100.0).contains(&v) => Ok(Some((v * 10_000.0).round() as u32)),
        _ => Err(value.error(format!("{text:?} is not a percentage between 0 and 100"))),
    }
}

/// `exportTo`: absent = `*` (exported everywhere, Istio's mesh default).
pub(crate) fn export_to(spec: &Obj<'_>) -> Read<Vec<String>> {
    let list = strings(spec, "exportTo")?;
    Ok(if list.is_empty() {
        vec!["*".to_string()]
    } else {
        list
    })
}

/// Whether a resource in `own` exported to `export` is visible from `namespace`.
pub fn visible(export: &[String], own: &str, namespace: &str) -> bool {
    export
        .iter()
        .any(|e| e == "*" || e == namespace || (e == "." && own == namespace))
}

#[cfg(test)]
mod tests {
    use super::parse_istio_duration;

    #[test]
    fn go_duration_syntax() {
        assert_eq!(parse_istio_duration("1.5s"), Some(1500));
        assert_eq!(parse_istio_duration("500ms"), Some(500));
        assert_eq!(parse_istio_duration("1m30s"), Some(90_000));
        assert_eq!(parse_istio_duration("0s"), Some(0));
        for bad in ["", "1", "s", "1d", "-1s"] {
            assert_eq!(parse_istio_duration(bad), None, "{bad}");
        }
    }
}
