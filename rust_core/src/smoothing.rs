//! The state recursion of exponential smoothing with additive errors (ETS(A,N,N) and
//! ETS(A,Ad,N)) over a grid of smoothing parameters, for the three linear systems the Python
//! fit (`forecasts.ets.fit_prefixes`) solves by least squares: the data from zero initial
//! states, and a unit initial level, and a unit initial slope, with no data; and the running
//! sums of the residuals' cross-products that least squares needs for every prefix.
//!
//! With `e_t = y_t - l_{t-1} - phi b_{t-1}`: `l_t = l_{t-1} + phi b_{t-1} + alpha e_t` and
//! `b_t = phi b_{t-1} + beta e_t`. Each value is computed with the same operations in the same
//! order as the NumPy code it replaces (a loop over the steps, then `np.cumsum` of products),
//! so the results are the same to the bit.

use crate::error::InputError;

/// The three systems: the data, a unit initial level, a unit initial slope.
pub const SYSTEMS: usize = 3;

/// The cross-products summed, in order: with `r0 = e` of the data system and `r1`, `r2` the
/// negated residuals of the unit-level and unit-slope systems, `r0 r0`, `r0 r1`, `r0 r2`,
/// `r1 r1`, `r1 r2`, `r2 r2`.
pub const CROSS: usize = 6;

/// States of every system after every step, and the running cross-product sums, for every grid
/// point.
#[derive(Debug, Clone, PartialEq)]
pub struct SmoothingPass {
    /// `states[((t * 2 + k) * SYSTEMS + s) * grid + g]`: level (`k = 0`) or slope (`k = 1`) of
    /// system `s` after step `t`.
    pub states: Vec<f64>,
    /// `cross[(c * steps + t) * grid + g]`: cross-product `c` (see `CROSS`) summed over steps
    /// `0..=t`.
    pub cross: Vec<f64>,
}

fn invalid(row: usize, field: &str, reason: &str) -> InputError {
    InputError {
        row,
        field: field.to_string(),
        reason: reason.to_string(),
    }
}

/// Runs the recursion over `y` for each grid point `(alpha[g], beta[g], phi[g])`.
pub fn smoothing_pass(
    y: &[f64],
    alpha: &[f64],
    beta: &[f64],
    phi: &[f64],
) -> Result<SmoothingPass, InputError> {
    if let Some(t) = y.iter().position(|v| !v.is_finite()) {
        return Err(invalid(t, "y", "not a finite number"));
    }
    let grid = alpha.len();
    for (field, values) in [("beta", beta), ("phi", phi)] {
        if values.len() != grid {
            return Err(invalid(
                values.len().min(grid),
                field,
                &format!("{} grid points, expected {grid} (as alpha)", values.len()),
            ));
        }
    }
    for (field, values) in [("alpha", alpha), ("beta", beta), ("phi", phi)] {
        if let Some(g) = values.iter().position(|v| !v.is_finite()) {
            return Err(invalid(g, field, "not a finite number"));
        }
    }
    let width = SYSTEMS * grid;
    let mut level = vec![0.0; width];
    let mut slope = vec![0.0; width];
    level[grid..2 * grid].fill(1.0);
    slope[2 * grid..].fill(1.0);
    let steps = y.len();
    let mut errors = vec![0.0; width];
    let mut states = vec![0.0; steps * 2 * width];
    let mut cross = vec![0.0; CROSS * steps * grid];
    for (t, &observed) in y.iter().enumerate() {
        let (levels, slopes) = states[2 * t * width..2 * (t + 1) * width].split_at_mut(width);
        for s in 0..SYSTEMS {
            let data = if s == 0 { observed } else { 0.0 };
            let part = s * grid..(s + 1) * grid;
            // element by element over the grid, in slices the compiler can vectorise
            for (((((l, b), e), (out_l, out_b)), &a), (&be, &p)) in level[part.clone()]
                .iter_mut()
                .zip(&mut slope[part.clone()])
                .zip(&mut errors[part.clone()])
                .zip(levels[part.clone()].iter_mut().zip(&mut slopes[part]))
                .zip(alpha)
                .zip(beta.iter().zip(phi))
            {
                let damped = p * *b;
                *e = data - *l - damped;
                *l = *l + damped + a * *e;
                *b = damped + be * *e;
                *out_l = *l;
                *out_b = *b;
            }
        }
        for g in 0..grid {
            let (r0, r1, r2) = (errors[g], -errors[grid + g], -errors[2 * grid + g]);
            let products = [r0 * r0, r0 * r1, r0 * r2, r1 * r1, r1 * r2, r2 * r2];
            for (c, product) in products.into_iter().enumerate() {
                let at = (c * steps + t) * grid + g;
                // the first step is the product itself (as np.cumsum starts), not 0 + product
                cross[at] = if t == 0 {
                    product
                } else {
                    cross[at - grid] + product
                };
            }
        }
    }
    Ok(SmoothingPass { states, cross })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_smoothing_is_the_textbook_recursion() {
        // alpha 0.5, no slope: the level moves half way to each observation
        let pass = smoothing_pass(&[2.0, 4.0], &[0.5], &[0.0], &[0.0]).expect("valid input");
        // step 0: e = 2, level 1; step 1: e = 4 - 1 = 3, level 2.5
        assert_eq!(pass.states[0], 1.0);
        assert_eq!(pass.states[2 * SYSTEMS], 2.5);
        // the unit-level system decays by 1 - alpha per step with no data: e = -1, then -0.5
        assert_eq!(pass.states[1], 0.5);
        assert_eq!(pass.states[2 * SYSTEMS + 1], 0.25);
        // running sums of r0 r0 (4, then 4 + 9) and r0 r1 with r1 = -e (2, then 2 + 1.5)
        assert_eq!(&pass.cross[0..2], &[4.0, 13.0]);
        assert_eq!(&pass.cross[2..4], &[2.0, 3.5]);
    }

    #[test]
    fn bad_input_is_an_error_naming_it() {
        let err = smoothing_pass(&[1.0, f64::NAN], &[0.5], &[0.0], &[0.9]).unwrap_err();
        assert_eq!((err.row, err.field.as_str()), (1, "y"));
        let err = smoothing_pass(&[1.0], &[0.5, 0.2], &[0.0], &[0.9, 0.9]).unwrap_err();
        assert_eq!(err.field, "beta");
        let err = smoothing_pass(&[1.0], &[0.5], &[0.0], &[f64::INFINITY]).unwrap_err();
        assert_eq!(err.field, "phi");
    }
}
