//! Property tests: augmentation keeps boxes inside the image and maps back exactly; importers
//! never panic, whatever the bytes.

use facture::domain::{Point, Quad, Rect};
use facture::formats::augment::{AugmentOptions, plan, transform_box, untransform_corners};
use facture::formats::model::PageBox;
use facture::formats::{coco, csv, funsd, labelstudio, ppocr, voc, yolo};
use proptest::prelude::*;

fn boxes(w: u32, h: u32) -> impl Strategy<Value = Vec<PageBox>> {
    prop::collection::vec((0.0..0.9f32, 0.0..0.9f32, 0.01..0.1f32, 0.01..0.1f32, any::<bool>()), 0..12).prop_map(
        move |v| {
            v.into_iter()
                .map(|(x, y, bw, bh, skew)| {
                    let r = Rect::new(x * w as f32, y * h as f32, (x + bw) * w as f32, (y + bh) * h as f32);
                    let quad = skew.then(|| {
                        Quad([
                            Point::new(r.x0, r.y0 + 1.0),
                            Point::new(r.x1, r.y0),
                            Point::new(r.x1, r.y1 - 1.0),
                            Point::new(r.x0, r.y1),
                        ])
                    });
                    PageBox {
                        rect: quad.map_or(r, |q| q.bounds()),
                        quad,
                        label: None,
                        text: String::new(),
                        flags: Default::default(),
                    }
                })
                .collect()
        },
    )
}

proptest! {
    #[test]
    fn augmented_boxes_stay_inside_and_map_back(
        seed in any::<u64>(), doc in 0u64..1000, copy in 0u32..4,
        (w, h, bs) in (50u32..2000, 50u32..2000).prop_flat_map(|(w, h)| (Just(w), Just(h), boxes(w, h))),
    ) {
        let aug = plan(&AugmentOptions { count: 4, seed }, doc, copy, w, h, &bs);
        let (ow, oh) = aug.out_size();
        for b in &bs {
            let t = transform_box(&aug, b);
            prop_assert!(t.rect.x0 >= 0.0 && t.rect.y0 >= 0.0, "{:?}", t.rect);
            prop_assert!(t.rect.x1 <= ow as f32 && t.rect.y1 <= oh as f32, "{:?} in {}x{}", t.rect, ow, oh);
            let back = untransform_corners(&aug, &t).unwrap();
            for (p, q) in back.iter().zip(b.corners().0.iter()) {
                prop_assert!((p.x - q.x).abs() < 0.05 && (p.y - q.y).abs() < 0.05, "{p:?} vs {q:?}");
            }
        }
    }

    #[test]
    fn importers_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let _ = coco::read("x", &bytes);
        let _ = voc::read("x", &bytes);
        let _ = funsd::read("x", &bytes);
        let _ = ppocr::read("x", &bytes);
        let _ = labelstudio::read("x", &bytes);
        let _ = csv::read("x", &bytes);
        let _ = yolo::read_classes("x", &bytes);
        let _ = yolo::read_labels("x", &bytes, 100, 100, &["a".to_string()]);
    }

    #[test]
    fn importers_never_panic_on_near_valid_text(s in "[\\[\\]{}\",:0-9a-z\\t\\n <>/.-]{0,300}") {
        let b = s.as_bytes();
        let _ = coco::read("x", b);
        let _ = voc::read("x", b);
        let _ = ppocr::read("x", b);
        let _ = labelstudio::read("x", b);
        let _ = csv::read("x", b);
        let _ = yolo::read_labels("x", b, 10, 10, &[]);
    }
}
