//! [`Redact::paths`](super::Redact::paths): dotted paths (`user.email`,
//! `headers.*`, `**.ssn`) parsed into segments, and matched while the
//! redaction walks a value, as a set of states advanced one key at a time
//! (no backtracking, so `**` costs no more than the number of paths).

/// One segment of a path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Seg {
    /// A key (or an array index written in decimal).
    Lit(String),
    /// `*`: exactly one segment.
    One,
    /// `**`: zero or more segments.
    Many,
}

/// A position in a path: (path index, segment index).
pub(super) type St = (usize, usize);

/// A key of an object or an index of an array, while walking.
#[derive(Clone, Copy)]
pub(super) enum Key<'a> {
    Name(&'a str),
    Index(usize),
}

/// The parsed paths of one plugin.
#[derive(Clone, Debug, Default)]
pub(super) struct Paths(Vec<Vec<Seg>>);

impl Paths {
    /// Adds dotted paths (`\` escapes the next character).
    pub(super) fn extend<I>(&mut self, paths: I)
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        self.0
            .extend(paths.into_iter().map(|p| parse_path(p.as_ref())));
    }

    /// The states before any key: the start of every path.
    pub(super) fn roots(&self) -> Vec<St> {
        self.closed((0..self.0.len()).map(|p| (p, 0)).collect())
    }

    /// Adds the states reachable by letting `**` match nothing.
    fn closed(&self, mut states: Vec<St>) -> Vec<St> {
        let mut i = 0;
        while i < states.len() {
            let (p, s) = states[i];
            if self.0[p].get(s) == Some(&Seg::Many) && !states.contains(&(p, s + 1)) {
                states.push((p, s + 1));
            }
            i += 1;
        }
        states
    }

    /// The path states after consuming `key` (names compared by `name_eq`),
    /// and whether a path ends there.
    pub(super) fn step(
        &self,
        states: &[St],
        key: Key<'_>,
        name_eq: impl Fn(&str, &str) -> bool,
    ) -> (Vec<St>, bool) {
        let mut next = Vec::new();
        let mut push = |st: St| {
            if !next.contains(&st) {
                next.push(st);
            }
        };
        for &(p, s) in states {
            match self.0[p].get(s) {
                None => {}
                Some(Seg::Many) => push((p, s)),
                Some(Seg::One) => push((p, s + 1)),
                Some(Seg::Lit(lit)) => {
                    let hit = match key {
                        Key::Name(name) => name_eq(lit, name),
                        Key::Index(i) => lit.parse::<usize>().ok() == Some(i),
                    };
                    if hit {
                        push((p, s + 1));
                    }
                }
            }
        }
        let next = self.closed(next);
        let matched = next.iter().any(|&(p, s)| s == self.0[p].len());
        (next, matched)
    }
}

/// Splits a dotted path into segments (`\` escapes the next character).
fn parse_path(path: &str) -> Vec<Seg> {
    let mut segs = Vec::new();
    let mut cur = String::new();
    let mut escaped_any = false;
    let mut chars = path.chars();
    let finish = |cur: &mut String, escaped: &mut bool, segs: &mut Vec<Seg>| {
        let seg = match (cur.as_str(), *escaped) {
            ("*", false) => Seg::One,
            ("**", false) => Seg::Many,
            _ => Seg::Lit(std::mem::take(cur)),
        };
        cur.clear();
        *escaped = false;
        segs.push(seg);
    };
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                    escaped_any = true;
                }
            }
            '.' => finish(&mut cur, &mut escaped_any, &mut segs),
            _ => cur.push(c),
        }
    }
    finish(&mut cur, &mut escaped_any, &mut segs);
    segs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_parsing() {
        assert_eq!(
            parse_path(r"a.*.**.b\.c.\*"),
            vec![
                Seg::Lit("a".into()),
                Seg::One,
                Seg::Many,
                Seg::Lit("b.c".into()),
                Seg::Lit("*".into())
            ]
        );
    }
}
