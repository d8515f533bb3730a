//! Input errors: every invalid value is reported with its row and field, never a panic.

use std::fmt;

/// An invalid input value, located by row (0-based) and field name.
#[derive(Debug, Clone, PartialEq)]
pub struct InputError {
    pub row: usize,
    pub field: &'static str,
    pub reason: String,
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "row {}: field '{}': {}", self.row, self.field, self.reason)
    }
}

impl std::error::Error for InputError {}

/// Checks that a value is finite and strictly positive.
pub fn positive(row: usize, field: &'static str, value: f64) -> Result<f64, InputError> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(InputError {
            row,
            field,
            reason: format!("must be a finite number > 0, got {value}"),
        })
    }
}
