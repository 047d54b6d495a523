//! The one comparison of two keyed collections (operations, schemas,
//! methods, types, fields): which keys were added, removed or changed.

use std::collections::BTreeMap;

/// What happened to one key between the old and the new collection.
#[derive(Debug, PartialEq)]
pub enum Diff<'a, V> {
    Added(&'a V),
    Removed(&'a V),
    Changed { old: &'a V, new: &'a V },
}

/// Every key whose value differs between `old` and `new`: the added and
/// changed ones in key order, then the removed ones in key order.
pub fn diff<'a, K: Ord, V: PartialEq>(
    old: &'a BTreeMap<K, V>,
    new: &'a BTreeMap<K, V>,
) -> Vec<(&'a K, Diff<'a, V>)> {
    let mut out = Vec::new();
    for (key, value) in new {
        match old.get(key) {
            None => out.push((key, Diff::Added(value))),
            Some(before) if before != value => out.push((
                key,
                Diff::Changed {
                    old: before,
                    new: value,
                },
            )),
            Some(_) => {}
        }
    }
    for (key, value) in old {
        if !new.contains_key(key) {
            out.push((key, Diff::Removed(value)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn added_changed_and_removed_keys_are_told_apart() {
        let old = BTreeMap::from([("a", 1), ("b", 2), ("c", 3)]);
        let new = BTreeMap::from([("b", 2), ("c", 4), ("d", 5)]);
        assert_eq!(
            diff(&old, &new),
            [
                (&"c", Diff::Changed { old: &3, new: &4 }),
                (&"d", Diff::Added(&5)),
                (&"a", Diff::Removed(&1)),
            ]
        );
        assert!(diff(&old, &old).is_empty());
    }
}
