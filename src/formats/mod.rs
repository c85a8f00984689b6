//! Reading and writing files other tools (and our own ground truth) use.

pub mod gt;
