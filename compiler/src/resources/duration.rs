//! Gateway API `Duration`: `^([0-9]{1,5}(h|m|s|ms)){1,4}$`, e.g. `1h`, `500ms`, `1m30s`.

/// Milliseconds, or `None` when `text` is not a Gateway API duration.
pub fn parse_duration_ms(text: &str) -> Option<u64> {
    let bytes = text.as_bytes();
    let (mut i, mut total, mut parts) = (0, 0u64, 0);
    while i < bytes.len() {
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        let digits = &text[start..i];
        if digits.is_empty() || digits.len() > 5 {
            return None;
        }
        let value: u64 = digits.parse().ok()?;
        let unit_ms = if text[i..].starts_with("ms") {
            i += 2;
            1
        } else {
            let unit = match bytes.get(i) {
                Some(b'h') => 3_600_000,
                Some(b'm') => 60_000,
                Some(b's') => 1_000,
                _ => return None,
            };
            i += 1;
            unit
        };
        total += value * unit_ms;
        parts += 1;
    }
    (1..=4).contains(&parts).then_some(total)
}

#[cfg(test)]
mod tests {
    use super::parse_duration_ms;

    #[test]
    fn gateway_api_duration_grammar() {
        assert_eq!(parse_duration_ms("1h"), Some(3_600_000));
        assert_eq!(parse_duration_ms("500ms"), Some(500));
        assert_eq!(parse_duration_ms("1m30s"), Some(90_000));
        assert_eq!(parse_duration_ms("0s"), Some(0));
        assert_eq!(parse_duration_ms("1h1m1s1ms"), Some(3_661_001));
        for bad in ["", "1", "1d", "1.5s", "123456s", "1h1m1s1ms1ms", "s", "-1s"] {
            assert_eq!(parse_duration_ms(bad), None, "{bad}");
        }
    }
}
