//! A small LRU map for prepared statements: statement names live on the server, so
//! whatever the cache evicts must be closed there too; `insert` hands it back.

use std::borrow::Borrow;
use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;

pub struct Lru<K, V> {
    capacity: usize,
    tick: u64,
    entries: HashMap<K, (V, u64)>,
    /// Last-use tick -> key; the first entry is the least recently used.
    order: BTreeMap<u64, K>,
}

impl<K: Hash + Eq + Clone, V> Lru<K, V> {
    /// A cache of `capacity` entries; 0 disables caching (every insert is handed back).
    pub fn new(capacity: usize) -> Self {
        Lru {
            capacity,
            tick: 0,
            entries: HashMap::new(),
            order: BTreeMap::new(),
        }
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn next_tick(&mut self) -> u64 {
        self.tick += 1;
        self.tick
    }

    /// Look up and mark as most recently used (by any borrowed form of the key, so a
    /// lookup by `&str` allocates nothing).
    pub fn get<Q>(&mut self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let tick = self.next_tick();
        let (value, used) = self.entries.get_mut(key)?;
        let old = std::mem::replace(used, tick);
        if let Some(k) = self.order.remove(&old) {
            self.order.insert(tick, k);
        }
        Some(value)
    }

    /// Insert (or replace) and return what had to leave: the replaced value under the
    /// same key, or the least recently used entry when full.
    pub fn insert(&mut self, key: K, value: V) -> Option<(K, V)> {
        if self.capacity == 0 {
            return Some((key, value));
        }
        let tick = self.next_tick();
        if let Some((old, used)) = self.entries.insert(key.clone(), (value, tick)) {
            self.order.remove(&used);
            self.order.insert(tick, key.clone());
            return Some((key, old));
        }
        self.order.insert(tick, key);
        if self.entries.len() > self.capacity {
            let (_, lru_key) = self.order.pop_first()?;
            let (v, _) = self.entries.remove(&lru_key)?;
            return Some((lru_key, v));
        }
        None
    }

    pub fn remove(&mut self, key: &K) -> Option<V> {
        let (v, used) = self.entries.remove(key)?;
        self.order.remove(&used);
        Some(v)
    }

    /// Empty the cache, handing back every entry.
    pub fn drain(&mut self) -> Vec<(K, V)> {
        self.order.clear();
        self.entries.drain().map(|(k, (v, _))| (k, v)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn evicts_least_recently_used() {
        let mut lru = Lru::new(2);
        assert!(lru.insert("a", 1).is_none());
        assert!(lru.insert("b", 2).is_none());
        assert_eq!(lru.get(&"a"), Some(&1));
        assert_eq!(lru.insert("c", 3), Some(("b", 2)));
        assert_eq!(lru.get(&"b"), None);
        assert_eq!(lru.len(), 2);
    }

    #[test]
    fn zero_capacity_caches_nothing() {
        let mut lru = Lru::new(0);
        assert_eq!(lru.insert("a", 1), Some(("a", 1)));
        assert!(lru.is_empty());
    }

    #[test]
    fn replacing_hands_back_the_old_value() {
        let mut lru = Lru::new(2);
        lru.insert("a", 1);
        assert_eq!(lru.insert("a", 2), Some(("a", 1)));
        assert_eq!(lru.get(&"a"), Some(&2));
        assert_eq!(lru.remove(&"a"), Some(2));
        assert!(lru.is_empty());
    }

    proptest! {
        /// Never more than `capacity` entries, and the most recent insert is always kept.
        #[test]
        fn bounded(cap in 1usize..8, keys in proptest::collection::vec(0u8..16, 0..64)) {
            let mut lru = Lru::new(cap);
            for k in keys {
                if k % 3 == 0 { lru.get(&k); } else { lru.insert(k, ()); prop_assert!(lru.get(&k).is_some()); }
                prop_assert!(lru.len() <= cap);
                prop_assert_eq!(lru.order.len(), lru.len());
            }
        }
    }
}
