//! Optional 0°/180° direction classifier: turns upside-down line crops before recognition.

use ort::session::Session;
use ort::value::TensorRef;

use super::ModelError;
use super::rec::{Crop, batch_order, write_normalized};
use super::spec::ClassifierSpec;

pub struct Classifier {
    session: Session,
    pub spec: ClassifierSpec,
}

impl Classifier {
    pub fn new(session: Session, spec: ClassifierSpec) -> Self {
        Self { session, spec }
    }

    /// Turns every crop the model finds upside down (with at least `thresh` confidence).
    pub fn fix_upside_down(&mut self, crops: &mut [Option<Crop>]) -> Result<(), ModelError> {
        let present: Vec<usize> = (0..crops.len()).filter(|&i| crops[i].is_some()).collect();
        let ratios: Vec<f32> = present
            .iter()
            .filter_map(|&i| crops[i].as_ref())
            .map(|c| c.image.width() as f32 / c.image.height().max(1) as f32)
            .collect();
        let (h, w) = (self.spec.height_px, self.spec.width_px);
        let slot_len = (3 * h * w) as usize;
        for batch in batch_order(&ratios, self.spec.batch_size) {
            let idx: Vec<usize> = batch.iter().map(|&k| present[k]).collect();
            let mut data = vec![0f32; slot_len * idx.len()];
            for (&i, slot) in idx.iter().zip(data.chunks_exact_mut(slot_len)) {
                if let Some(c) = &crops[i] {
                    write_normalized(&c.image, h, w, w, &self.spec.normalization, slot);
                }
            }
            let tensor = TensorRef::from_array_view(([idx.len(), 3, h as usize, w as usize], &data[..]))
                .map_err(ModelError::inference)?;
            let outputs = self.session.run(ort::inputs![tensor]).map_err(ModelError::inference)?;
            let (shape, probs) = outputs[0].try_extract_tensor::<f32>().map_err(ModelError::inference)?;
            if **shape != [idx.len() as i64, 2] {
                return Err(ModelError::inference(format!("classifier returned shape {shape:?}")));
            }
            for (k, &i) in idx.iter().enumerate() {
                let upside_down = probs[2 * k + 1] > probs[2 * k] && probs[2 * k + 1] >= self.spec.thresh;
                if upside_down && let Some(c) = crops[i].as_mut() {
                    image::imageops::rotate180_in_place(&mut c.image);
                    c.turned = true;
                }
            }
        }
        Ok(())
    }
}
