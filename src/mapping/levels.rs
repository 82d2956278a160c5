//! An inline list of at most [`MAX_LEVELS`] cluster levels, so that a [`super::Genome`] is a
//! plain `Copy` value: breeding and unpacking millions of genomes allocate nothing.

use super::{Dim, Level, MAX_LEVELS};
use std::cmp::Ordering;
use std::hash::{Hash, Hasher};
use std::ops::{Deref, DerefMut};

/// Up to [`MAX_LEVELS`] levels, outermost first; dereferences to a slice like a `Vec` would.
#[derive(Clone, Copy)]
pub struct Levels {
    len: u8,
    items: [Level; MAX_LEVELS],
}

const EMPTY: Level = Level { par: Dim::K, size: 0, order: [(Dim::K, 0); 6], sp2: None };

impl Levels {
    pub const fn new() -> Levels {
        Levels { len: 0, items: [EMPTY; MAX_LEVELS] }
    }

    /// One level.
    pub fn one(l: Level) -> Levels {
        let mut v = Levels::new();
        v.push(l);
        v
    }

    /// `n` levels (at most [`MAX_LEVELS`]) made by `f(index)`.
    pub fn from_fn(n: usize, mut f: impl FnMut(usize) -> Level) -> Levels {
        let mut v = Levels::new();
        let n = n.min(MAX_LEVELS);
        for (i, slot) in v.items[..n].iter_mut().enumerate() {
            *slot = f(i);
        }
        v.len = n as u8;
        v
    }

    /// Appends a level; beyond [`MAX_LEVELS`] the level is dropped (genomes never have more:
    /// every constructor checks the count first).
    pub fn push(&mut self, l: Level) {
        if (self.len as usize) < MAX_LEVELS {
            self.items[self.len as usize] = l;
            self.len += 1;
        }
    }

    pub fn pop(&mut self) -> Option<Level> {
        if self.len == 0 {
            return None;
        }
        self.len -= 1;
        Some(self.items[self.len as usize])
    }

    /// Keeps the first `n` levels. Slots past the length are never read (equality, hashing and
    /// order look at the used levels only), so nothing is cleared.
    pub fn truncate(&mut self, n: usize) {
        self.len = self.len.min(n.min(MAX_LEVELS) as u8);
    }
}

impl Default for Levels {
    fn default() -> Self {
        Levels::new()
    }
}

impl Deref for Levels {
    type Target = [Level];
    fn deref(&self) -> &[Level] {
        &self.items[..self.len as usize]
    }
}

impl DerefMut for Levels {
    fn deref_mut(&mut self) -> &mut [Level] {
        &mut self.items[..self.len as usize]
    }
}

impl<'a> IntoIterator for &'a Levels {
    type Item = &'a Level;
    type IntoIter = std::slice::Iter<'a, Level>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl FromIterator<Level> for Levels {
    fn from_iter<I: IntoIterator<Item = Level>>(it: I) -> Self {
        let mut v = Levels::new();
        for l in it {
            v.push(l);
        }
        v
    }
}

impl From<Vec<Level>> for Levels {
    fn from(v: Vec<Level>) -> Self {
        v.into_iter().collect()
    }
}

impl From<&[Level]> for Levels {
    fn from(v: &[Level]) -> Self {
        v.iter().copied().collect()
    }
}

// Equality, hashing and order look at the used levels only, as for a Vec.
impl PartialEq for Levels {
    fn eq(&self, o: &Self) -> bool {
        **self == **o
    }
}
impl Eq for Levels {}
impl Hash for Levels {
    fn hash<H: Hasher>(&self, h: &mut H) {
        (**self).hash(h)
    }
}
impl PartialOrd for Levels {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Levels {
    fn cmp(&self, o: &Self) -> Ordering {
        (**self).cmp(&**o)
    }
}
impl std::fmt::Debug for Levels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaves_like_a_vec() {
        let a = Level::new(Dim::C, 4, [(Dim::K, 1); 6]);
        let b = Level::new(Dim::K, 2, [(Dim::C, 3); 6]);
        let mut v = Levels::one(a);
        v.push(b);
        assert_eq!(v.len(), 2);
        assert_eq!(v, Levels::from(vec![a, b]));
        assert_eq!(v.pop(), Some(b));
        // A popped slot is no longer part of the value.
        assert_eq!(v, Levels::one(a));
        let mut h1 = std::collections::hash_map::DefaultHasher::new();
        let mut h2 = std::collections::hash_map::DefaultHasher::new();
        v.hash(&mut h1);
        Levels::one(a).hash(&mut h2);
        assert_eq!(h1.finish(), h2.finish());
        for _ in 0..6 {
            v.push(b);
        }
        assert_eq!(v.len(), MAX_LEVELS);
        v.truncate(1);
        assert_eq!(v.cmp(&Levels::from(vec![a, b])), vec![a].cmp(&vec![a, b]));
        assert_eq!(Levels::new().pop(), None);
    }
}
