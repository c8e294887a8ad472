//! One stable sort for every type, and ordered collections built without sorting.
//!
//! `slice::sort_by` compiles a whole sort (about 1.5 KB gzip of wasm) for every element type and every
//! comparison closure, and `BTreeSet`/`BTreeMap`'s `collect` sorts its input too. In the Worker's bundle (its
//! cold start) that was nine sorts, 13 KB gzip. [`sort_by`] sorts positions instead, through one
//! non-generic sort, and gives the order `slice::sort_by` gives (stable: equal items keep their order);
//! [`set`] and [`map`] insert one item at a time, as `extend` does.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

/// Sorts `items` as `items.sort_by(cmp)` does: stably, equal items keep their order.
pub fn sort_by<T>(items: &mut Vec<T>, cmp: impl Fn(&T, &T) -> Ordering) {
    let order = sorted_positions(items.len(), &|a, b| cmp(&items[a], &items[b]));
    let mut slots: Vec<Option<T>> = items.drain(..).map(Some).collect();
    items.extend(order.into_iter().filter_map(|i| slots.get_mut(i).and_then(Option::take)));
}

/// Sorts `items` as `items.sort()` does.
pub fn sort<T: Ord>(items: &mut Vec<T>) {
    sort_by(items, T::cmp);
}

/// `0..n` ordered by `cmp`, stably: the one sort the callers share.
#[inline(never)]
fn sorted_positions(n: usize, cmp: &dyn Fn(usize, usize) -> Ordering) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| cmp(a, b));
    order
}

/// The set of `items`, as `collect()` makes it.
pub fn set<T: Ord>(items: impl IntoIterator<Item = T>) -> BTreeSet<T> {
    let mut out = BTreeSet::new();
    out.extend(items);
    out
}

/// The map of `pairs`, as `collect()` makes it (a repeated key keeps its last value).
pub fn map<K: Ord, V>(pairs: impl IntoIterator<Item = (K, V)>) -> BTreeMap<K, V> {
    let mut out = BTreeMap::new();
    out.extend(pairs);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The same order as the standard library's stable sort, ties included (compared by key only, so
        /// equal keys with different payloads show any reordering).
        #[test]
        fn sort_by_is_the_std_stable_sort(items in prop::collection::vec((0u8..8, any::<u16>()), 0..200)) {
            let mut ours = items.clone();
            sort_by(&mut ours, |a, b| a.0.cmp(&b.0));
            let mut std = items.clone();
            std.sort_by_key(|a| a.0);
            prop_assert_eq!(ours, std);
            let mut ours = items.clone();
            sort(&mut ours);
            let mut std = items;
            std.sort();
            prop_assert_eq!(ours, std);
        }

        #[test]
        fn set_and_map_are_collect(pairs in prop::collection::vec((0u8..20, any::<u16>()), 0..100)) {
            prop_assert_eq!(set(pairs.iter().map(|p| p.0)), pairs.iter().map(|p| p.0).collect::<BTreeSet<_>>());
            prop_assert_eq!(map(pairs.iter().copied()), pairs.iter().copied().collect::<BTreeMap<_, _>>());
        }
    }
}
