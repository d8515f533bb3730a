//! Input errors: every invalid value is reported with its row and field, never a panic.

use std::fmt;

/// Largest magnitude any numeric input may have: beyond it products overflow to inf/NaN, and no
/// physical quantity the model takes comes near it.
pub const MAX_MAGNITUDE: f64 = 1e18;

/// An invalid input value, located by row (0-based) and field name (the input column's name).
#[derive(Debug, Clone, PartialEq)]
pub struct InputError {
    pub row: usize,
    pub field: String,
    pub reason: String,
}

impl InputError {
    /// The same error with the field named as its prefixed input column (`b_memory_bw_gbps`).
    pub fn prefixed(mut self, prefix: &str) -> InputError {
        self.field = format!("{prefix}{}", self.field);
        self
    }

    /// The same error with the field renamed (a column named differently from the field).
    pub fn renamed(mut self, from: &str, to: &str) -> InputError {
        if self.field == from {
            self.field = to.to_string();
        }
        self
    }
}

/// The first error in row order among per-row results (parallel collection would report any).
pub fn first_error<T>(results: Vec<Result<T, InputError>>) -> Result<Vec<T>, InputError> {
    results.into_iter().collect()
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "row {}: field '{}': {}",
            self.row, self.field, self.reason
        )
    }
}

impl std::error::Error for InputError {}

/// Checks that a value is finite and strictly positive.
pub fn positive(row: usize, field: &'static str, value: f64) -> Result<f64, InputError> {
    if value.is_finite() && value > 0.0 && value <= MAX_MAGNITUDE {
        Ok(value)
    } else {
        Err(InputError {
            row,
            field: field.into(),
            reason: format!("must be a finite number > 0 and <= {MAX_MAGNITUDE:e}, got {value}"),
        })
    }
}

/// Checks that a value is finite and >= 0.
pub fn non_negative(row: usize, field: &'static str, value: f64) -> Result<f64, InputError> {
    if value.is_finite() && (0.0..=MAX_MAGNITUDE).contains(&value) {
        Ok(value)
    } else {
        Err(InputError {
            row,
            field: field.into(),
            reason: format!("must be a finite number >= 0 and <= {MAX_MAGNITUDE:e}, got {value}"),
        })
    }
}

/// Checks that a value is a fraction in [0, 1].
pub fn unit_interval(row: usize, field: &'static str, value: f64) -> Result<f64, InputError> {
    if value.is_finite() && (0.0..=1.0).contains(&value) {
        Ok(value)
    } else {
        Err(InputError {
            row,
            field: field.into(),
            reason: format!("must be a fraction in [0, 1], got {value}"),
        })
    }
}

/// Checks that a value is a fraction in (0, 1].
pub fn efficiency(row: usize, field: &'static str, value: f64) -> Result<f64, InputError> {
    if value.is_finite() && value > 0.0 && value <= 1.0 {
        Ok(value)
    } else {
        Err(InputError {
            row,
            field: field.into(),
            reason: format!("must be a fraction in (0, 1], got {value}"),
        })
    }
}

/// Checks that a value is a whole number >= 1 that fits in 32 bits.
pub fn count(row: usize, field: &'static str, value: f64) -> Result<u32, InputError> {
    if value.is_finite() && value >= 1.0 && value.fract() == 0.0 && value <= f64::from(u32::MAX) {
        // The checks above make the conversion exact.
        Ok(value as u32)
    } else {
        Err(InputError {
            row,
            field: field.into(),
            reason: format!("must be a whole number >= 1, got {value}"),
        })
    }
}

/// Builds an error for a value that is well-formed alone but inconsistent with the rest of the row.
pub fn invalid(row: usize, field: &'static str, reason: String) -> InputError {
    InputError {
        row,
        field: field.into(),
        reason,
    }
}
