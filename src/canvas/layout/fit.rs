//! The small exact algorithms the layout rests on: counting crossings
//! (inversions), placing a layer closest to its targets (isotonic
//! regression), and dropping corners that are not corners.

/// Drops corners that lie on a straight line.
pub fn straighten(points: Vec<(f32, f32)>) -> Vec<(f32, f32)> {
    let mut out: Vec<(f32, f32)> = Vec::with_capacity(points.len());
    for point in points {
        if out.len() >= 2 {
            let (a, b) = (out[out.len() - 2], out[out.len() - 1]);
            let same_x = a.0 == b.0 && b.0 == point.0;
            let same_y = a.1 == b.1 && b.1 == point.1;
            if same_x || same_y {
                out.pop();
            }
        }
        out.push(point);
    }
    out
}

/// How many pairs of a sequence are out of order (a Fenwick tree).
pub fn inversions(values: impl Iterator<Item = usize>) -> u64 {
    let values: Vec<usize> = values.collect();
    let size = values.iter().copied().max().map_or(0, |max| max + 1);
    let mut tree = vec![0u64; size + 1];
    let mut total = 0;
    for (seen, &value) in values.iter().enumerate() {
        // How many seen so far are at most `value`.
        let mut at = value + 1;
        let mut not_greater = 0;
        while at > 0 {
            not_greater += tree[at];
            at &= at - 1;
        }
        total += seen as u64 - not_greater;
        let mut at = value + 1;
        while at <= size {
            tree[at] += 1;
            at += at & at.wrapping_neg();
        }
    }
    total
}

/// The non-decreasing sequence closest to `targets` in weighted least
/// squares (pool adjacent violators).
pub fn isotonic(targets: &[f32], weights: &[f32]) -> Vec<f32> {
    // Blocks of (weight, weighted sum, count).
    let mut blocks: Vec<(f32, f32, usize)> = Vec::with_capacity(targets.len());
    for (&target, &weight) in targets.iter().zip(weights) {
        blocks.push((weight, weight * target, 1));
        while blocks.len() >= 2 {
            let last = blocks[blocks.len() - 1];
            let before = blocks[blocks.len() - 2];
            if before.1 / before.0 <= last.1 / last.0 {
                break;
            }
            blocks.pop();
            let merged = blocks.last_mut().expect("two blocks");
            merged.0 += last.0;
            merged.1 += last.1;
            merged.2 += last.2;
        }
    }
    blocks
        .into_iter()
        .flat_map(|(weight, sum, count)| std::iter::repeat_n(sum / weight, count))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isotonic_pools_what_is_out_of_order() {
        assert_eq!(isotonic(&[1.0, 2.0, 3.0], &[1.0; 3]), vec![1.0, 2.0, 3.0]);
        assert_eq!(isotonic(&[3.0, 1.0, 2.0], &[1.0; 3]), vec![2.0, 2.0, 2.0]);
        assert_eq!(isotonic(&[0.0, 0.0], &[1.0, 3.0]), vec![0.0, 0.0]);
        assert_eq!(isotonic(&[4.0, 0.0], &[1.0, 3.0]), vec![1.0, 1.0]);
    }

    #[test]
    fn inversions_count_pairs_out_of_order() {
        assert_eq!(inversions([0, 1, 2].into_iter()), 0);
        assert_eq!(inversions([2, 1, 0].into_iter()), 3);
        assert_eq!(inversions([1, 1, 0].into_iter()), 2);
    }

    #[test]
    fn corners_on_a_straight_line_are_dropped() {
        let points = vec![(0.0, 0.0), (0.0, 5.0), (0.0, 9.0), (4.0, 9.0)];
        assert_eq!(straighten(points), vec![(0.0, 0.0), (0.0, 9.0), (4.0, 9.0)]);
    }
}
