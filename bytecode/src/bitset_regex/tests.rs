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
}

/// Atoms of generated patterns, each with the characters a witness may use for it.
const ATOMS: [(&str, &[u8]); 16] = [
    ("a", b"a"),
    ("b", b"b"),
    ("/", b"/"),
    ("-", b"-"),
    ("0", b"0"),
    ("9", b"9"),
    (".", b"ab/-.09Z_ "),
    (r"\.", b"."),
    (r"\d", b"09"),
    (r"\w", b"abZ_09"),
    (r"\s", b" \n"),
    ("[a-c]", b"abc"),
    ("[^/]", b"ab-.0Z"),
    ("[0-9a-f]", b"09af"),
    ("[-x]", b"-x"),
    (r"[\d_]", b"0_9"),
];
/// Quantifiers with the repetitions a witness may use (`None`: unbounded).
const QUANTIFIERS: [(&str, u32, Option<u32>); 14] = [
    ("", 1, Some(1)),
    ("", 1, Some(1)),
    ("", 1, Some(1)),
    ("?", 0, Some(1)),
    ("*", 0, None),
    ("+", 1, None),
    ("{2}", 2, Some(2)),
    ("{0,2}", 0, Some(2)),
    ("{1,}", 1, None),
    ("{1,3}", 1, Some(3)),
    ("*?", 0, None),
    ("+?", 1, None),
    ("??", 0, Some(1)),
    ("{0}", 0, Some(0)),
];

/// A generated pattern, kept as a tree so that matching texts can be drawn from it.
enum Gen {
    Atom(usize),
    Group {
        capturing: bool,
        branches: Vec<Vec<(Gen, usize)>>,
    },
}

fn generate(rng: &mut Rng, depth: u32) -> Vec<(Gen, usize)> {
    (0..1 + rng.below(3))
        .map(|_| {
            let item = if depth > 0 && rng.below(4) == 0 {
                let branches = (0..1 + rng.below(3))
                    .map(|_| {
                        if rng.below(6) == 0 {
                            Vec::new()
                        } else {
                            generate(rng, depth - 1)
                        }
                    })
                    .collect();
                Gen::Group {
                    capturing: rng.below(2) == 0,
                    branches,
                }
            } else {
                Gen::Atom(rng.below(ATOMS.len()))
            };
            (item, rng.below(QUANTIFIERS.len()))
        })
        .collect()
}

fn render(sequence: &[(Gen, usize)], out: &mut String) {
    for (item, quantifier) in sequence {
        match item {
            Gen::Atom(a) => out.push_str(ATOMS[*a].0),
            Gen::Group { capturing, branches } => {
                out.push_str(if *capturing { "(" } else { "(?:" });
                for (n, branch) in branches.iter().enumerate() {
                    if n > 0 {
                        out.push('|');
                    }
                    render(branch, out);
                }
                out.push(')');
            }
        }
        out.push_str(QUANTIFIERS[*quantifier].0);
    }
}

/// A text the pattern matches, by construction.
fn witness(rng: &mut Rng, sequence: &[(Gen, usize)], out: &mut String) {
    for (item, quantifier) in sequence {
        let (_, min, max) = QUANTIFIERS[*quantifier];
        let times = min + rng.below((max.unwrap_or(min + 3) - min + 1) as usize) as u32;
        for _ in 0..times {
            match item {
                Gen::Atom(a) => {
                    let chars = ATOMS[*a].1;
                    out.push(char::from(chars[rng.below(chars.len())]));
                }
                Gen::Group { branches, .. } => {
                    let branch = &branches[rng.below(branches.len())];
                    witness(rng, branch, out);
                }
            }
        }
    }
}

/// One random edit (insert, delete or replace a character), which may or may not keep
/// the text matching: the cases next to the boundary.
fn mutate(rng: &mut Rng, text: &str) -> String {
    const ALPHABET: &[u8] = b"ab/-.09fxZ_ \n";
    let mut bytes = text.as_bytes().to_vec();
    let at = rng.below(bytes.len() + 1);
    let c = ALPHABET[rng.below(ALPHABET.len())];
    match rng.below(3) {
        0 => bytes.insert(at, c),
        1 if at < bytes.len() => {
            bytes.remove(at);
        }
        _ if at < bytes.len() => bytes[at] = c,
        _ => bytes.push(c),
    }
    String::from_utf8(bytes).expect("ASCII")
}

fn random_text(rng: &mut Rng) -> String {
    const ALPHABET: &[u8] = b"ab/-.09fxZ_ \n";
    let len = rng.below(10);
    (0..len)
        .map(|_| char::from(ALPHABET[rng.below(ALPHABET.len())]))
        .collect()
}

/// The matcher must be a faster regex-lite, never a different one: on generated
/// patterns, texts they match by construction, those texts with one edit, and random
/// texts.
#[test]
fn every_answer_agrees_with_regex_lite() {
    let mut rng = Rng(0x5EED_1234_ABCD_0001);
    let (mut decided, mut answers, mut matches) = (0, 0, 0);
    for _ in 0..3000 {
        let tree = generate(&mut rng, 2);
        let mut source = String::new();
        render(&tree, &mut source);
        let regex = reference(&source);
        let Some(fast) = BitsetRegex::new(&anchored(&source)) else {
            continue;
        };
        decided += 1;
        for _ in 0..10 {
            let mut matching = String::new();
            witness(&mut rng, &tree, &mut matching);
            let edited = mutate(&mut rng, &matching);
            let other = random_text(&mut rng);
            assert!(regex.is_match(&matching), "generator: {source:?} on {matching:?}");
            for subject in [&matching, &edited, &other] {
                let answer = regex.is_match(subject);
                assert_eq!(
                    fast.full_match(subject),
                    Some(answer),
                    "pattern {source:?} on {subject:?}"
                );
                answers += 1;
                matches += usize::from(answer);
            }
        }
    }
    // The generator stays inside the subset most of the time (some patterns need more
    // than 64 positions), and both answers are well represented; otherwise this test
    // would prove little.
    assert!(decided > 2000, "only {decided} patterns decided");
    assert!(
        matches * 3 > answers && matches * 3 < answers * 2,
        "{matches} of {answers} match"
    );
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
