// SPDX-License-Identifier: GPL-2.0
//! Sorting in a fixed amount of stack: heapsort, no recursion.
//!
//! `core`'s `sort_unstable` is a quicksort that recurses up to 2 log2(n) levels before it
//! falls back to heapsort, each level a frame of ~680 bytes (its small-sort scratch lives on
//! the stack): for the compile step's tables of a 3,000-block graph that is ~15 KiB, the
//! whole kernel stack, and a graph overflowed it (measured: a corrupted return address in
//! the guest). The kernel's own `sort()` is a heapsort for the same reason.

/// Sort `v` in ascending order, in place, in O(n log n) time and constant stack.
pub(crate) fn sort<T: Ord>(v: &mut [T]) {
    let n = v.len();
    for root in (0..n / 2).rev() {
        sift_down(v, root, n);
    }
    for end in (1..n).rev() {
        v.swap(0, end);
        sift_down(v, 0, end);
    }
}

/// Restore the max-heap property of `v[..end]` below `root`.
fn sift_down<T: Ord>(v: &mut [T], mut root: usize, end: usize) {
    loop {
        let mut child = 2 * root + 1;
        if child >= end {
            return;
        }
        if child + 1 < end && v[child] < v[child + 1] {
            child += 1;
        }
        if v[root] >= v[child] {
            return;
        }
        v.swap(root, child);
        root = child;
    }
}

#[kernel::macros::kunit_tests(lana_heapsort)]
mod tests {
    use super::sort;
    use kernel::prelude::*;

    #[test]
    fn sorts_like_core_whatever_the_order() {
        // shapes: noise with many duplicates, descending, and an ascending run followed by a
        // descending one (the compile step's jump credits of a chain entered from both ends)
        for shape in 0..3u32 {
            for n in [0usize, 1, 2, 3, 7, 64, 1000, 5000] {
                let mut a: KVVec<(u32, u32, u32)> = KVVec::new();
                let mut b: KVVec<(u32, u32, u32)> = KVVec::new();
                let mut x = 12345u32;
                for i in 0..n as u32 {
                    x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    let e = match shape {
                        0 => ((x >> 16) % 64, i % 3, i),
                        1 => (n as u32 - i, 0, i % 5),
                        _ if i < n as u32 / 2 => (i, i + 1, 0),
                        _ => (n as u32 - i, n as u32 - i + 1, 1),
                    };
                    assert!(a.push(e, GFP_KERNEL).is_ok());
                    assert!(b.push(e, GFP_KERNEL).is_ok());
                }
                sort(&mut a);
                b.sort_unstable();
                assert_eq!(&a[..], &b[..]);
            }
        }
    }
}
