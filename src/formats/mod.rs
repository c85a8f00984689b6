//! Reading and writing files other tools (and our own ground truth) use.

pub mod gt;

pub mod augment;
pub mod coco;
pub mod csv;
pub mod funsd;
pub mod labelstudio;
pub mod model;
pub mod ppocr;
pub mod voc;
pub mod yolo;
