//! Compute Outlook's numeric core. The maths lives in plain modules with no PyO3 types; the
//! `bindings` module (built only with the `python` feature) maps NumPy arrays and errors.

pub mod chip;
pub mod cluster;
pub mod error;
pub mod inference;
pub mod memory;
pub mod model;
pub mod montecarlo;
pub mod search;
pub mod smoothing;
pub mod training;

#[cfg(feature = "python")]
mod bindings;
