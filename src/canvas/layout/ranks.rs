//! Ranks: which arrows close a loop (left out of the ranking and drawn as
//! "go to" tags), and each box's rank, its longest path from the top.

/// Arrows that close a loop: found by a walk from the trigger, they point
/// at a box still on the walk's path.
pub fn back_arrows(boxes: usize, ends: &[(usize, usize)]) -> Vec<bool> {
    let mut outs = vec![Vec::new(); boxes];
    for (index, &(from, _)) in ends.iter().enumerate() {
        outs[from].push(index);
    }
    let mut back = vec![false; ends.len()];
    // 0: not seen, 1: on the path, 2: done.
    let mut state = vec![0u8; boxes];
    for start in 0..boxes {
        if state[start] != 0 {
            continue;
        }
        let mut stack = vec![(start, 0usize)];
        state[start] = 1;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if let Some(&arrow) = outs[node].get(*next) {
                *next += 1;
                let to = ends[arrow].1;
                match state[to] {
                    0 => {
                        state[to] = 1;
                        stack.push((to, 0));
                    }
                    1 => back[arrow] = true,
                    _ => {}
                }
            } else {
                state[node] = 2;
                stack.pop();
            }
        }
    }
    back
}

/// Each box's rank: the longest path to it from a box nothing points at,
/// loops left out.
pub fn ranks(boxes: usize, ends: &[(usize, usize)], back: &[bool]) -> Vec<usize> {
    let mut pending = vec![0usize; boxes];
    let mut outs = vec![Vec::new(); boxes];
    for (index, &(from, to)) in ends.iter().enumerate() {
        if !back[index] {
            pending[to] += 1;
            outs[from].push(to);
        }
    }
    let mut rank = vec![0usize; boxes];
    let mut ready: Vec<usize> = (0..boxes).filter(|&b| pending[b] == 0).collect();
    while let Some(node) = ready.pop() {
        for &to in &outs[node] {
            rank[to] = rank[to].max(rank[node] + 1);
            pending[to] -= 1;
            if pending[to] == 0 {
                ready.push(to);
            }
        }
    }
    rank
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loops_are_found_and_left_out_of_ranks() {
        // 0 -> 1 -> 2 -> 1, 0 -> 2
        let ends = [(0, 1), (1, 2), (2, 1), (0, 2)];
        let back = back_arrows(3, &ends);
        assert_eq!(back, vec![false, false, true, false]);
        assert_eq!(ranks(3, &ends, &back), vec![0, 1, 2]);
    }
}
