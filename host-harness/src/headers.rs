//! An ordered header map with Envoy's semantics, the model behind every
//! `proxy_*_header_map_*` hostcall.
//!
//! Envoy (`source/extensions/common/wasm/context.cc`) lowercases every key it
//! is given, returns only the first value of a repeated header, appends on
//! `add`, implements `replace` as remove-all-then-append, and treats removing
//! an absent header as success. The harness copies each rule so a plugin that
//! passes here behaves the same behind Envoy.

use crate::header_map::{self, MapError, Pairs};

/// Header entries in wire order; names are stored lowercased.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Headers {
    entries: Pairs,
}

fn lower(key: &[u8]) -> Vec<u8> {
    key.to_ascii_lowercase()
}

impl Headers {
    /// Builds a map from caller-supplied pairs, lowercasing the names as
    /// Envoy's codecs do before any filter sees them.
    pub fn from_pairs<K: AsRef<[u8]>, V: AsRef<[u8]>>(pairs: &[(K, V)]) -> Headers {
        let mut headers = Headers::default();
        for (k, v) in pairs {
            headers.add(k.as_ref(), v.as_ref());
        }
        headers
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The first value stored under `key`, as Envoy's `getHeaderMapValue`.
    pub fn get(&self, key: &[u8]) -> Option<&[u8]> {
        let key = lower(key);
        self.entries
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_slice())
    }

    pub fn add(&mut self, key: &[u8], value: &[u8]) {
        self.entries.push((lower(key), value.to_vec()));
    }

    /// Envoy's `setCopy`: drop every entry of that name, then append one.
    pub fn replace(&mut self, key: &[u8], value: &[u8]) {
        self.remove(key);
        self.add(key, value);
    }

    pub fn remove(&mut self, key: &[u8]) {
        let key = lower(key);
        self.entries.retain(|(k, _)| *k != key);
    }

    /// `proxy_set_header_map_pairs`: the whole map is replaced.
    pub fn set_all(&mut self, pairs: &Pairs) {
        self.entries.clear();
        for (k, v) in pairs {
            self.add(k, v);
        }
    }

    /// The bytes handed to the guest; an empty map is no bytes at all, which
    /// the hostcall turns into a `(0, 0)` return without allocating.
    pub fn serialize(&self) -> Result<Vec<u8>, MapError> {
        if self.is_empty() {
            return Ok(Vec::new());
        }
        header_map::encode(&self.entries)
    }

    /// The map as strings for test assertions; bytes that are not UTF-8 are
    /// shown with replacement characters rather than failing the exchange.
    pub fn to_strings(&self) -> Vec<(String, String)> {
        self.entries
            .iter()
            .map(|(k, v)| {
                (
                    String::from_utf8_lossy(k).into_owned(),
                    String::from_utf8_lossy(v).into_owned(),
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(list: &[(&str, &str)]) -> Headers {
        Headers::from_pairs(list)
    }

    fn strings(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn keys_are_lowercased_on_insert_and_lookup() {
        let h = map(&[("X-Route", "a")]);
        assert_eq!(h.to_strings(), strings(&[("x-route", "a")]));
        assert_eq!(h.get(b"X-ROUTE"), Some(&b"a"[..]));
    }

    #[test]
    fn get_returns_the_first_value() {
        let h = map(&[("x", "1"), ("y", "2"), ("x", "3")]);
        assert_eq!(h.get(b"x"), Some(&b"1"[..]));
        assert_eq!(h.get(b"z"), None);
    }

    #[test]
    fn add_appends_a_duplicate() {
        let mut h = map(&[("x", "1"), ("y", "2")]);
        h.add(b"X", b"3");
        assert_eq!(h.to_strings(), strings(&[("x", "1"), ("y", "2"), ("x", "3")]));
    }

    #[test]
    fn replace_removes_all_then_appends_at_the_end() {
        let mut h = map(&[("x", "1"), ("y", "2"), ("x", "3")]);
        h.replace(b"X", b"9");
        assert_eq!(h.to_strings(), strings(&[("y", "2"), ("x", "9")]));
    }

    #[test]
    fn remove_absent_is_harmless() {
        let mut h = map(&[("x", "1")]);
        h.remove(b"nope");
        h.remove(b"X");
        assert!(h.is_empty());
    }

    #[test]
    fn empty_map_serializes_to_nothing() {
        assert_eq!(Headers::default().serialize().unwrap(), Vec::<u8>::new());
        let h = map(&[("a", "b")]);
        assert_eq!(header_map::decode(&h.serialize().unwrap()).unwrap().len(), 1);
    }
}
