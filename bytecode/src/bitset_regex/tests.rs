use super::BitsetRegex;

/// Anchored the way the writer stores match regexes.
fn anchored(pattern: &str) -> String {
    format!("^(?:{pattern})$")
}

fn reference(pattern: &str) -> regex_lite::Regex {
    regex_lite::Regex::new(&anchored(pattern)).expect("a valid regex")
}

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const ATOMS: [&str; 16] = [
    "a", "b", "/", "-", "0", "9", ".", r"\.", r"\d", r"\w", r"\s", "[a-c]", "[^/]", "[0-9a-f]", "[-x]",
    r"[\d_]",
];
const QUANTIFIERS: [&str; 14] = [
    "", "", "", "?", "*", "+", "{2}", "{0,2}", "{1,}", "{1,3}", "*?", "+?", "??", "{0}",
];

fn pattern(rng: &mut Rng, depth: u32) -> String {
    let items = 1 + rng.below(3);
    let mut out = String::new();
    for _ in 0..items {
        let atom = if depth > 0 && rng.below(4) == 0 {
            let open = if rng.below(2) == 0 { "(" } else { "(?:" };
            let mut group = format!("{open}{}", pattern(rng, depth - 1));
            for _ in 0..rng.below(3) {
                group.push('|');
                if rng.below(5) != 0 {
                    group.push_str(&pattern(rng, depth - 1));
                }
            }
            group.push(')');
            group
        } else {
            rng.pick(&ATOMS).to_string()
        };
        out.push_str(&atom);
        out.push_str(rng.pick(&QUANTIFIERS));
    }
    out
}

fn text(rng: &mut Rng) -> String {
    const ALPHABET: &[u8] = b"ab/-.09fxZ_ \n";
    let len = rng.below(10);
    (0..len)
        .map(|_| char::from(ALPHABET[rng.below(ALPHABET.len())]))
        .collect()
}

/// The matcher must be a faster regex-lite, never a different one.
#[test]
fn every_answer_agrees_with_regex_lite() {
    let mut rng = Rng(0x5EED_1234_ABCD_0001);
    let mut decided = 0;
    for _ in 0..3000 {
        let source = pattern(&mut rng, 2);
        let Ok(regex) = regex_lite::Regex::new(&anchored(&source)) else {
            continue;
        };
        let Some(fast) = BitsetRegex::new(&anchored(&source)) else {
            continue;
        };
        decided += 1;
        for _ in 0..40 {
            let subject = text(&mut rng);
            assert_eq!(
                fast.full_match(&subject),
                Some(regex.is_match(&subject)),
                "pattern {source:?} on {subject:?}"
            );
        }
    }
    // The generator stays inside the subset most of the time (some patterns need more
    // than 64 positions); if it did not, this test would prove nothing.
    assert!(decided > 2000, "only {decided} patterns decided");
}

#[test]
fn the_patterns_route_tables_use_are_decided_here() {
    let cases: [(&str, &[&str], &[&str]); 8] = [
        (
            "/orders/[0-9]+/(details|history)",
            &["/orders/1/details", "/orders/65769/history"],
            &["/orders//details", "/orders/1/detail", "/orders/1/details/"],
        ),
        (
            "[a-f0-9]{8}",
            &["0a1b2c3d"],
            &["0a1b2c3", "0a1b2c3d4", "0A1B2C3D"],
        ),
        ("u[0-9]{1,8}", &["u1", "u12345678"], &["u", "u123456789", "x1"]),
        (
            "(beta|canary)-[a-z]+",
            &["beta-x", "canary-abc"],
            &["beta-", "alpha-x"],
        ),
        (
            "/api/v\\d+/.*",
            &["/api/v2/", "/api/v10/a/b"],
            &["/api/v/x", "/api/vx/"],
        ),
        ("/users/[^/]+", &["/users/ann"], &["/users/", "/users/a/b"]),
        (
            r"https://[\w.-]+\.example\.com",
            &["https://a-b.example.com"],
            &["https://example.com"],
        ),
        ("", &[""], &["a"]),
    ];
    for (source, matching, other) in cases {
        let fast = BitsetRegex::new(&anchored(source)).unwrap_or_else(|| panic!("{source:?} not decided"));
        let regex = reference(source);
        for subject in matching {
            assert_eq!(fast.full_match(subject), Some(true), "{source:?} on {subject:?}");
            assert!(regex.is_match(subject));
        }
        for subject in other {
            assert_eq!(fast.full_match(subject), Some(false), "{source:?} on {subject:?}");
            assert!(!regex.is_match(subject));
        }
    }
}

#[test]
fn patterns_outside_the_subset_are_left_to_regex_lite() {
    for source in [
        "(?i)abc",
        "(?i:abc)",
        "(?P<id>a)",
        r"a\bc",
        r"\Aabc",
        "[[:alpha:]]+",
        "[]a]",
        "é",
        r"\x41",
        "a{65}",
        "[a-z]{40}[0-9]{30}",
        "((((((((((((((((((((((((((((((((((a))))))))))))))))))))))))))))))))))",
    ] {
        // Each is a valid regex: only the subset sends it back.
        reference(source);
        assert!(
            BitsetRegex::new(&anchored(source)).is_none(),
            "{source:?} was decided"
        );
    }
    // Not anchored as a whole (an anchor inside), or not anchored at all: rewrite
    // patterns are stored as written.
    for pattern in ["^a$|^b$", "/v1/(.*)", "^(a)", "(a)$"] {
        assert!(BitsetRegex::new(pattern).is_none(), "{pattern:?} was decided");
    }
}

/// On non-ASCII text a byte is not a character (`[^/]` matches `é` as one character,
/// two bytes), so such text goes to regex-lite.
#[test]
fn text_that_is_not_ascii_is_left_to_regex_lite() {
    let fast = BitsetRegex::new(&anchored("/users/[^/]")).expect("decided");
    assert_eq!(fast.full_match("/users/é"), None);
    assert!(reference("/users/[^/]").is_match("/users/é"));
    assert_eq!(fast.full_match("/users/e"), Some(true));
    // Dead before the first non-ASCII byte: no continuation can match.
    assert_eq!(fast.full_match("/x/é"), Some(false));
}

#[test]
fn a_class_is_read_as_regex_lite_reads_it() {
    for (source, subject) in [
        ("[-a]", "-"),
        ("[a-]", "-"),
        (r"[\-]", "-"),
        ("[a^]", "^"),
        ("[^^]", "x"),
        (r"[\]]", "]"),
        ("[.]", "."),
        ("[.]", "x"),
        (r"[\s]", "\u{0b}"),
        (".", "\n"),
        (r"\S", " "),
        ("[$]", "$"),
    ] {
        let fast = BitsetRegex::new(&anchored(source)).unwrap_or_else(|| panic!("{source:?} not decided"));
        assert_eq!(
            fast.full_match(subject),
            Some(reference(source).is_match(subject)),
            "{source:?} on {subject:?}"
        );
    }
}

/// Repeated empty groups have no positions to run out of; the construction still stops.
#[test]
fn nested_repetitions_of_nothing_are_refused_quickly() {
    let mut pattern = String::from("()");
    for _ in 0..8 {
        pattern = format!("({pattern}){{64}}");
    }
    // Without the visit bound this call would not return (64^8 copies of `()`).
    assert!(BitsetRegex::new(&anchored(&pattern)).is_none());
}
