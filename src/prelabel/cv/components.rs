//! 8-connected components of an ink mask, labelled run by run: each row is a handful of
//! runs, so union-find over runs touches far fewer items than a per-pixel labelling and
//! yields boxes and ink counts without a label image.

/// Bounding box (half-open, working pixels) and ink pixel count of one component.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Comp {
    pub x0: u32,
    pub y0: u32,
    pub x1: u32,
    pub y1: u32,
    pub ink: u32,
}

impl Comp {
    pub fn w(&self) -> u32 {
        self.x1 - self.x0
    }
    pub fn h(&self) -> u32 {
        self.y1 - self.y0
    }
}

struct Run {
    y: u32,
    x0: u32,
    x1: u32,
}

fn find(parent: &mut [u32], mut i: u32) -> u32 {
    while parent[i as usize] != i {
        let p = parent[i as usize];
        parent[i as usize] = parent[p as usize];
        i = p;
    }
    i
}

/// Components of `mask` (row-major, `w` wide, 1 = ink). Horizontal runs longer than
/// `max_run` are treated as paper: they are table rules or underlines, and removing them
/// before labelling keeps a rule from gluing every line it touches into one blob.
pub(super) fn components(mask: &[u8], w: usize, h: usize, max_run: usize) -> Vec<Comp> {
    let mut runs: Vec<Run> = Vec::new();
    let mut parent: Vec<u32> = Vec::new();
    let mut prev_start = 0usize;
    for y in 0..h.min(mask.len() / w.max(1)) {
        let row = &mask[y * w..(y + 1) * w];
        let cur_start = runs.len();
        let mut x = 0;
        while x < w {
            if row[x] == 0 {
                x += 1;
                continue;
            }
            let s = x;
            while x < w && row[x] != 0 {
                x += 1;
            }
            if x - s > max_run {
                continue;
            }
            let id = runs.len() as u32;
            runs.push(Run { y: y as u32, x0: s as u32, x1: x as u32 });
            parent.push(id);
        }
        // Two-pointer merge with the previous row; touching diagonally counts (8-connected).
        let (mut i, mut j) = (prev_start, cur_start);
        while i < cur_start && j < runs.len() {
            let (a, b) = (&runs[i], &runs[j]);
            if a.x0 <= b.x1 && b.x0 <= a.x1 {
                let (ra, rb) = (find(&mut parent, i as u32), find(&mut parent, j as u32));
                if ra != rb {
                    parent[ra.max(rb) as usize] = ra.min(rb);
                }
            }
            if runs[i].x1 < runs[j].x1 {
                i += 1;
            } else {
                j += 1;
            }
        }
        prev_start = cur_start;
    }
    let mut slot = vec![u32::MAX; runs.len()];
    let mut comps: Vec<Comp> = Vec::new();
    for (i, r) in runs.iter().enumerate() {
        let root = find(&mut parent, i as u32) as usize;
        if slot[root] == u32::MAX {
            slot[root] = comps.len() as u32;
            comps.push(Comp { x0: r.x0, y0: r.y, x1: r.x1, y1: r.y + 1, ink: 0 });
        }
        let c = &mut comps[slot[root] as usize];
        c.x0 = c.x0.min(r.x0);
        c.x1 = c.x1.max(r.x1);
        c.y1 = c.y1.max(r.y + 1);
        c.ink += r.x1 - r.x0;
    }
    comps
}

/// Erases vertical ink runs longer than `max_run` (table columns, page-edge shadows) so that
/// the glyphs a rule touches come apart from it.
pub(super) fn erase_vertical_runs(mask: &mut [u8], w: usize, h: usize, max_run: usize) {
    let h = h.min(mask.len() / w.max(1));
    let mut start = vec![0usize; w];
    let erase = |mask: &mut [u8], x: usize, y0: usize, y1: usize| {
        if y1 - y0 > max_run {
            for y in y0..y1 {
                mask[y * w + x] = 0;
            }
        }
    };
    for y in 0..h {
        for x in 0..w {
            if mask[y * w + x] == 0 {
                erase(mask, x, start[x], y);
                start[x] = y + 1;
            }
        }
    }
    for (x, &y0) in start.iter().enumerate() {
        erase(mask, x, y0, h);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_vertical_runs_are_erased_short_ones_kept() {
        #[rustfmt::skip]
        let mut mask = vec![
            1, 1, 0,
            1, 1, 0,
            1, 0, 1,
            1, 0, 1,
        ];
        erase_vertical_runs(&mut mask, 3, 4, 3);
        assert_eq!(mask, vec![0, 1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1]);
    }

    #[test]
    fn diagonal_touch_joins_and_long_runs_vanish() {
        #[rustfmt::skip]
        let mask = [
            1, 0, 0, 0, 1, 1,
            0, 1, 0, 0, 0, 0,
            0, 0, 0, 1, 1, 1,
        ];
        let c = components(&mask, 6, 3, 10);
        assert_eq!(c.len(), 3);
        assert_eq!(c[0], Comp { x0: 0, y0: 0, x1: 2, y1: 2, ink: 2 });
        let c = components(&mask, 6, 3, 2);
        assert_eq!(c.len(), 2, "the 3-long run is dropped as a rule");
    }

    #[test]
    fn u_shape_merges_left_and_right_arms() {
        #[rustfmt::skip]
        let mask = [
            1, 0, 1,
            1, 0, 1,
            1, 1, 1,
        ];
        let c = components(&mask, 3, 3, 10);
        assert_eq!(c, vec![Comp { x0: 0, y0: 0, x1: 3, y1: 3, ink: 7 }]);
    }
}
