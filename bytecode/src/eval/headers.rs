//! The request's headers, borrowed in whichever form the caller holds them: owned
//! strings (the compiler, tests, the browser) or slices of one buffer (the plugin, which
//! reads Envoy's header map without copying a header).

/// Request headers with lowercase names, repeats allowed, in arrival order.
#[derive(Debug, Clone, Copy)]
pub enum Headers<'a> {
    Owned(&'a [(String, String)]),
    Borrowed(&'a [(&'a str, &'a str)]),
}

impl Default for Headers<'_> {
    fn default() -> Self {
        Headers::Borrowed(&[])
    }
}

impl<'a> Headers<'a> {
    /// Every (name, value) pair, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        let (owned, borrowed) = match *self {
            Headers::Owned(pairs) => (pairs, &[][..]),
            Headers::Borrowed(pairs) => (&[][..], pairs),
        };
        owned
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .chain(borrowed.iter().copied())
    }

    /// The first value of `name`, compared without regard to ASCII case.
    pub fn get(&self, name: &str) -> Option<&'a str> {
        self.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// Whether a header `name` is present.
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    pub fn is_empty(&self) -> bool {
        match self {
            Headers::Owned(pairs) => pairs.is_empty(),
            Headers::Borrowed(pairs) => pairs.is_empty(),
        }
    }
}

impl<'a> From<&'a [(String, String)]> for Headers<'a> {
    fn from(pairs: &'a [(String, String)]) -> Self {
        Headers::Owned(pairs)
    }
}

impl<'a> From<&'a Vec<(String, String)>> for Headers<'a> {
    fn from(pairs: &'a Vec<(String, String)>) -> Self {
        Headers::Owned(pairs)
    }
}

impl<'a> From<&'a [(&'a str, &'a str)]> for Headers<'a> {
    fn from(pairs: &'a [(&'a str, &'a str)]) -> Self {
        Headers::Borrowed(pairs)
    }
}

impl<'a> From<&'a Vec<(&'a str, &'a str)>> for Headers<'a> {
    fn from(pairs: &'a Vec<(&'a str, &'a str)>) -> Self {
        Headers::Borrowed(pairs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owned_and_borrowed_headers_read_alike() {
        let owned = vec![
            ("a".to_string(), "1".to_string()),
            ("B".to_string(), "2".to_string()),
        ];
        let borrowed = vec![("a", "1"), ("B", "2")];
        for headers in [Headers::from(&owned), Headers::from(&borrowed)] {
            assert_eq!(headers.iter().collect::<Vec<_>>(), [("a", "1"), ("B", "2")]);
            assert_eq!(headers.get("b"), Some("2"));
            assert!(!headers.contains("c"));
            assert!(!headers.is_empty());
        }
        assert!(Headers::default().is_empty());
    }
}
