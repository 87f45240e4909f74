//! A bit-parallel matcher for the small regexes route tables are made of.
//!
//! regex-lite decides every regex with a PikeVM, which walks its NFA state by state for
//! each input character: in the plugin that is about a thousand Wasm instructions per
//! byte, so a request decided by `/orders/[0-9]+/(details|history)` cost more than the
//! rest of its evaluation put together (BENCHMARKS.md, "Evaluation per request"). Most
//! route regexes are short, ASCII, and made of literals, classes, groups, alternation and
//! repetition. For those, this module builds the position automaton (Glushkov's
//! construction: one state per character class in the pattern, no epsilon moves) and
//! runs it with the set of live states held in one `u64`, a handful of instructions per
//! byte.
//!
//! It answers only what it is sure of:
//! - **Patterns**: [`BitsetRegex::new`] accepts an anchored full match `^…$` (how the
//!   writer stores every match regex) over the subset parsed below, with at most 64
//!   positions once counted repetitions are expanded; anything else (flags, look-around
//!   escapes, POSIX classes, non-ASCII literals, `]` first in a class, …) is `None` and
//!   the caller keeps regex-lite. The pattern has already been compiled by regex-lite,
//!   so it is known to be valid; the subset is read with regex-lite's meaning.
//! - **Input**: [`BitsetRegex::full_match`] returns `None` at the first byte above
//!   0x7F. On ASCII text a byte is a character, so byte classes (`.`, `[^/]`, `\D`, taken
//!   within ASCII) mean exactly what regex-lite's character classes mean.
//!
//! Matching is linear in the input (one pass, no backtracking), like regex-lite's.

/// Most positions (character classes after expanding counted repetitions) a pattern may
/// have: the live-state set is one `u64`.
const MAX_POSITIONS: usize = 64;
/// Deepest group nesting the parser follows (it recurses once per group).
const MAX_DEPTH: u32 = 32;
/// Most atoms the construction reads, copies of repeated ones included. Positions bound
/// the copies of anything that has a character class, but not of empty groups:
/// `((){64}){64}` nested deeper would otherwise take exponential time at load.
const MAX_VISITS: u32 = 4096;

/// Sets of ASCII bytes, bit `b` for byte `b`.
type ByteSet = u128;
const ASCII: ByteSet = u128::MAX;

const fn byte(b: u8) -> ByteSet {
    1 << b
}

const fn range(lo: u8, hi: u8) -> ByteSet {
    // Bits lo..=hi; hi < 128.
    let upto_hi = if hi == 127 { ASCII } else { (1 << (hi + 1)) - 1 };
    upto_hi & !((1 << lo) - 1)
}

// regex-lite's Perl classes (ASCII: `\d` is `[0-9]`, `\w` `[0-9A-Za-z_]`, `\s` the POSIX
// `space` class) and its `.` without flags (anything but `\n`).
const DIGIT: ByteSet = range(b'0', b'9');
const WORD: ByteSet = DIGIT | range(b'A', b'Z') | range(b'a', b'z') | byte(b'_');
const SPACE: ByteSet = range(b'\t', b'\r') | byte(b' ');
const DOT: ByteSet = ASCII & !byte(b'\n');

/// A compiled pattern: the position automaton and the classes of its positions.
#[derive(Debug, Clone)]
pub(crate) struct BitsetRegex {
    /// For each ASCII byte, the index in `masks` of the positions that accept it.
    class_of: [u8; 128],
    /// Distinct sets of positions accepting a byte.
    masks: Vec<u64>,
    /// For each position, the positions that may come next.
    follow: Vec<u64>,
    /// Positions that may match the first byte.
    first: u64,
    /// Positions that may match the last byte.
    last: u64,
    /// Whether the empty text matches.
    nullable: bool,
}

impl BitsetRegex {
    /// The matcher for `pattern` (an anchored `^…$` full match), or `None` when the
    /// pattern is outside the subset this module decides.
    pub fn new(pattern: &str) -> Option<BitsetRegex> {
        let body = pattern.strip_prefix('^')?.strip_suffix('$')?;
        let mut builder = Builder {
            text: body.as_bytes(),
            at: 0,
            classes: Vec::new(),
            follow: Vec::new(),
            visits: 0,
        };
        let whole = builder.alternation(0)?;
        if builder.at != body.len() {
            return None;
        }
        Some(builder.finish(whole))
    }

    /// Whether `text` as a whole matches; `None` when it is not ASCII.
    pub fn full_match(&self, text: &str) -> Option<bool> {
        let Some((&head, rest)) = text.as_bytes().split_first() else {
            return Some(self.nullable);
        };
        let mut live = self.first & self.mask(head)?;
        for &b in rest {
            if live == 0 {
                // Dead on an ASCII prefix: no continuation can match, whatever follows.
                return Some(false);
            }
            let mut next = 0;
            let mut states = live;
            while states != 0 {
                next |= self
                    .follow
                    .get(states.trailing_zeros() as usize)
                    .copied()
                    .unwrap_or(0);
                states &= states - 1;
            }
            live = next & self.mask(b)?;
        }
        Some(live & self.last != 0)
    }

    /// The positions accepting byte `b`; `None` for a byte above 0x7F.
    #[inline]
    fn mask(&self, b: u8) -> Option<u64> {
        let class = *self.class_of.get(usize::from(b))?;
        Some(self.masks.get(usize::from(class)).copied().unwrap_or(0))
    }
}

/// What an escape or a class item stands for.
enum Escaped {
    Char(u8),
    Class(ByteSet),
}

/// What Glushkov's construction tracks for a sub-pattern.
#[derive(Debug, Clone, Copy)]
struct Fragment {
    nullable: bool,
    first: u64,
    last: u64,
}

/// The empty string.
const EMPTY: Fragment = Fragment {
    nullable: true,
    first: 0,
    last: 0,
};

/// Reads the pattern (recursive descent over the subset) and builds the automaton as it
/// goes, with no syntax tree: a repeated atom is read again for each copy, which gives
/// each copy its own positions. Every `None` means "not decided here".
struct Builder<'a> {
    text: &'a [u8],
    at: usize,
    /// The byte set of each position.
    classes: Vec<ByteSet>,
    /// For each position, the positions that may follow it.
    follow: Vec<u64>,
    /// Atoms read so far, copies included.
    visits: u32,
}

impl Builder<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.get(self.at).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.at += 1;
        Some(b)
    }

    fn alternation(&mut self, depth: u32) -> Option<Fragment> {
        let mut union = self.concat(depth)?;
        while self.peek() == Some(b'|') {
            self.at += 1;
            let branch = self.concat(depth)?;
            union = Fragment {
                nullable: union.nullable || branch.nullable,
                first: union.first | branch.first,
                last: union.last | branch.last,
            };
        }
        Some(union)
    }

    fn concat(&mut self, depth: u32) -> Option<Fragment> {
        let mut done = EMPTY;
        while !matches!(self.peek(), None | Some(b'|' | b')')) {
            let item = self.repeated(depth)?;
            done = self.join(done, item);
        }
        Some(done)
    }

    /// An atom and its quantifier, if any. X{n,m} is n copies of X followed by m - n
    /// optional copies; X{n,} is n copies followed by X*.
    fn repeated(&mut self, depth: u32) -> Option<Fragment> {
        let start = self.at;
        let mut unused = Some(self.atom(depth)?);
        let Some((min, max)) = self.quantifier()? else {
            return unused;
        };
        let after = self.at;
        // The copy already read serves first; each further one is read again.
        let mut copy = |this: &mut Self| -> Option<Fragment> {
            if let Some(first) = unused.take() {
                return Some(first);
            }
            this.at = start;
            let fragment = this.atom(depth)?;
            this.at = after;
            Some(fragment)
        };
        let mut done = EMPTY;
        for _ in 0..min {
            let one = copy(self)?;
            done = self.join(done, one);
        }
        match max {
            None => {
                let one = copy(self)?;
                self.link(one.last, one.first);
                done = self.join(
                    done,
                    Fragment {
                        nullable: true,
                        ..one
                    },
                );
            }
            Some(max) => {
                for _ in min..max {
                    let one = copy(self)?;
                    done = self.join(
                        done,
                        Fragment {
                            nullable: true,
                            ..one
                        },
                    );
                }
            }
        }
        Some(done)
    }

    fn atom(&mut self, depth: u32) -> Option<Fragment> {
        self.visits += 1;
        if self.visits > MAX_VISITS {
            return None;
        }
        match self.next()? {
            b'(' => {
                if depth >= MAX_DEPTH {
                    return None;
                }
                // A non-capturing group; flags and names are left to regex-lite.
                if self.peek() == Some(b'?') {
                    if self.text.get(self.at + 1) != Some(&b':') {
                        return None;
                    }
                    self.at += 2;
                }
                let inner = self.alternation(depth + 1)?;
                (self.next()? == b')').then_some(inner)
            }
            b'[' => {
                let set = self.class()?;
                self.position(set)
            }
            b'.' => self.position(DOT),
            b'\\' => match self.escape()? {
                Escaped::Char(c) => self.position(byte(c)),
                Escaped::Class(set) => self.position(set),
            },
            // Anchors inside the pattern, stray closers and quantifiers without an atom.
            b'^' | b'$' | b')' | b']' | b'}' | b'?' | b'*' | b'+' | b'{' => None,
            c @ 0x20..=0x7E => self.position(byte(c)),
            _ => None,
        }
    }

    /// A new position matching one byte of `set`.
    fn position(&mut self, set: ByteSet) -> Option<Fragment> {
        if self.classes.len() == MAX_POSITIONS {
            return None;
        }
        let position = 1u64 << self.classes.len();
        self.classes.push(set);
        self.follow.push(0);
        Some(Fragment {
            nullable: false,
            first: position,
            last: position,
        })
    }

    /// The quantifier after an atom: `Some(None)` when there is none, `None` when it is
    /// outside the subset.
    fn quantifier(&mut self) -> Option<Option<(u32, Option<u32>)>> {
        let (min, max) = match self.peek() {
            Some(b'?') => (0, Some(1)),
            Some(b'*') => (0, None),
            Some(b'+') => (1, None),
            Some(b'{') => {
                self.at += 1;
                let min = self.number()?;
                let max = if self.peek() == Some(b',') {
                    self.at += 1;
                    if self.peek() == Some(b'}') {
                        None
                    } else {
                        Some(self.number()?)
                    }
                } else {
                    Some(min)
                };
                // Left on the `}`, which is stepped over below like a one-byte quantifier.
                if self.peek() != Some(b'}') || max.is_some_and(|max| max < min) {
                    return None;
                }
                (min, max)
            }
            _ => return Some(None),
        };
        self.at += 1;
        // A lazy quantifier matches the same texts.
        if self.peek() == Some(b'?') {
            self.at += 1;
        }
        if matches!(self.peek(), Some(b'?' | b'*' | b'+' | b'{')) {
            return None;
        }
        Some(Some((min, max)))
    }

    /// A decimal count of at most `MAX_POSITIONS` (more could not fit anyway).
    fn number(&mut self) -> Option<u32> {
        let start = self.at;
        let mut value: u32 = 0;
        while let Some(d @ b'0'..=b'9') = self.peek() {
            value = value.checked_mul(10)?.checked_add(u32::from(d - b'0'))?;
            self.at += 1;
        }
        (self.at > start && value as usize <= MAX_POSITIONS).then_some(value)
    }

    /// After a `\`: a Perl class, a control escape, or an escaped punctuation character.
    fn escape(&mut self) -> Option<Escaped> {
        Some(match self.next()? {
            b'd' => Escaped::Class(DIGIT),
            b'D' => Escaped::Class(ASCII & !DIGIT),
            b'w' => Escaped::Class(WORD),
            b'W' => Escaped::Class(ASCII & !WORD),
            b's' => Escaped::Class(SPACE),
            b'S' => Escaped::Class(ASCII & !SPACE),
            b'a' => Escaped::Char(0x07),
            b'f' => Escaped::Char(0x0C),
            b't' => Escaped::Char(b'\t'),
            b'n' => Escaped::Char(b'\n'),
            b'r' => Escaped::Char(b'\r'),
            b'v' => Escaped::Char(0x0B),
            // `\<` and `\>` are word boundaries; other punctuation stands for itself.
            c if c.is_ascii_punctuation() && c != b'<' && c != b'>' => Escaped::Char(c),
            _ => return None,
        })
    }

    /// After a `[`: the set, complemented within ASCII when negated.
    fn class(&mut self) -> Option<ByteSet> {
        let negated = self.peek() == Some(b'^');
        if negated {
            self.at += 1;
        }
        let mut set = 0;
        let mut first = true;
        loop {
            match self.next()? {
                b']' if !first => break,
                // `[]…]` (a literal `]`), POSIX classes and nesting: regex-lite's.
                b']' | b'[' => return None,
                // A `-` is literal only first or last.
                b'-' if first || self.peek() == Some(b']') => set |= byte(b'-'),
                b'-' => return None,
                c => match self.class_item(c)? {
                    Escaped::Class(class) => set |= class,
                    Escaped::Char(lo)
                        if self.peek() == Some(b'-') && self.text.get(self.at + 1) != Some(&b']') =>
                    {
                        self.at += 1;
                        let c = self.next()?;
                        let Escaped::Char(hi) = self.class_item(c)? else {
                            return None;
                        };
                        if hi < lo {
                            return None;
                        }
                        set |= range(lo, hi);
                    }
                    Escaped::Char(c) => set |= byte(c),
                },
            }
            first = false;
        }
        Some(if negated { ASCII & !set } else { set })
    }

    fn class_item(&mut self, c: u8) -> Option<Escaped> {
        match c {
            b'\\' => self.escape(),
            // `&&` and `~~` are set operations in the regex crate's syntax.
            b'&' | b'~' if self.peek() == Some(c) => None,
            0x20..=0x7E => Some(Escaped::Char(c)),
            _ => None,
        }
    }

    fn join(&mut self, a: Fragment, b: Fragment) -> Fragment {
        self.link(a.last, b.first);
        Fragment {
            nullable: a.nullable && b.nullable,
            first: a.first | if a.nullable { b.first } else { 0 },
            last: b.last | if b.nullable { a.last } else { 0 },
        }
    }

    /// Every position in `from` may be followed by every position in `to`.
    fn link(&mut self, from: u64, to: u64) {
        let mut states = from;
        while states != 0 {
            if let Some(follow) = self.follow.get_mut(states.trailing_zeros() as usize) {
                *follow |= to;
            }
            states &= states - 1;
        }
    }

    fn finish(self, whole: Fragment) -> BitsetRegex {
        // The positions accepting each byte, visiting only the bytes each class holds.
        let mut by_byte = [0u64; 128];
        for (p, &set) in self.classes.iter().enumerate() {
            let mut bytes = set;
            while bytes != 0 {
                if let Some(mask) = by_byte.get_mut(bytes.trailing_zeros() as usize) {
                    *mask |= 1 << p;
                }
                bytes &= bytes - 1;
            }
        }
        // Bytes with the same positions share a class (a pattern has a few).
        let mut class_of = [0u8; 128];
        let mut masks: Vec<u64> = Vec::new();
        for (class, &mask) in class_of.iter_mut().zip(&by_byte) {
            let index = masks.iter().position(|&m| m == mask).unwrap_or_else(|| {
                masks.push(mask);
                masks.len() - 1
            });
            // At most 128 distinct masks, one per byte.
            *class = index as u8;
        }
        BitsetRegex {
            class_of,
            masks,
            follow: self.follow,
            first: whole.first,
            last: whole.last,
            nullable: whole.nullable,
        }
    }
}

#[cfg(test)]
mod tests;
