//! Reading order for Tab navigation: lines top to bottom, boxes left to right within a line.
//!
//! Two boxes share a line when their centre bands (the middle half of their height) overlap,
//! chained through the line, so a tall amount beside a short label still reads as one line
//! while the next line of ordinary spacing does not.

use super::CanvasBox;

/// Indices into `boxes` in reading order.
pub fn reading_order(boxes: &[CanvasBox]) -> Vec<usize> {
    let band = |b: &CanvasBox| {
        let c = (b.rect.y0 + b.rect.y1) * 0.5;
        let q = b.rect.height() * 0.25;
        (c - q, c + q)
    };
    let mut by_centre: Vec<usize> = (0..boxes.len()).collect();
    by_centre.sort_by(|&a, &b| {
        let (ca, cb) = (boxes[a].rect.center().y, boxes[b].rect.center().y);
        ca.total_cmp(&cb).then(boxes[a].rect.x0.total_cmp(&boxes[b].rect.x0)).then(boxes[a].id.cmp(&boxes[b].id))
    });

    let mut order = Vec::with_capacity(boxes.len());
    let mut line: Vec<usize> = Vec::new();
    let mut line_band_end = f32::NEG_INFINITY;
    let flush = |line: &mut Vec<usize>, order: &mut Vec<usize>| {
        line.sort_by(|&a, &b| boxes[a].rect.x0.total_cmp(&boxes[b].rect.x0).then(boxes[a].id.cmp(&boxes[b].id)));
        order.append(line);
    };
    for i in by_centre {
        let (top, bottom) = band(&boxes[i]);
        if !line.is_empty() && top > line_band_end {
            flush(&mut line, &mut order);
            line_band_end = f32::NEG_INFINITY;
        }
        line.push(i);
        line_band_end = line_band_end.max(bottom);
    }
    flush(&mut line, &mut order);
    order
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{AnnId, Rect};

    fn b(id: i64, x0: f32, y0: f32, x1: f32, y1: f32) -> CanvasBox {
        CanvasBox::new(AnnId(id), Rect::new(x0, y0, x1, y1))
    }

    fn ids(boxes: &[CanvasBox]) -> Vec<i64> {
        reading_order(boxes).into_iter().map(|i| boxes[i].id.0).collect()
    }

    #[test]
    fn invoice_layout_reads_line_by_line() {
        // ids name the expected position; input shuffled
        let boxes = [
            b(6, 900.0, 400.0, 1100.0, 430.0),  // "1 234,50 €" beside "Total:"
            b(1, 100.0, 100.0, 500.0, 160.0),   // company name, tall
            b(3, 100.0, 200.0, 300.0, 225.0),   // "Invoice no."
            b(2, 800.0, 118.0, 1100.0, 140.0),  // "INVOICE" title, same line as the name
            b(5, 700.0, 403.0, 850.0, 425.0),   // "Total:"
            b(4, 350.0, 202.0, 500.0, 228.0),   // "2024-0117", slightly lower
            b(7, 100.0, 1000.0, 400.0, 1020.0), // footer
        ];
        assert_eq!(ids(&boxes), vec![1, 2, 3, 4, 5, 6, 7]);
    }

    #[test]
    fn slightly_skewed_line_stays_together_and_next_line_is_separate() {
        let boxes = [
            b(1, 0.0, 100.0, 100.0, 120.0),
            b(2, 110.0, 104.0, 210.0, 124.0),
            b(3, 220.0, 108.0, 320.0, 128.0),
            b(4, 0.0, 130.0, 100.0, 150.0), // next line at 1.5× line height
        ];
        assert_eq!(ids(&boxes), vec![1, 2, 3, 4]);
    }

    #[test]
    fn empty_and_single() {
        assert!(reading_order(&[]).is_empty());
        assert_eq!(ids(&[b(9, 0.0, 0.0, 1.0, 1.0)]), vec![9]);
    }
}
