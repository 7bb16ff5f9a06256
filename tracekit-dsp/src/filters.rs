//! The Butterworth built-ins: `lowpass`, `highpass`, `bandpass` and `bandstop`.

use std::cmp::Ordering;

use tracekit_core::{ParamValue, Params, StageError, Trace, Transformer, buffer::SampleVec};

use crate::{
    input::one,
    params,
    sos::{Band, MAX_ORDER, butter_sos, sosfilt_pooled, sosfiltfilt_pooled},
};

/// What the four filter kinds share: the design and how it runs.
#[derive(Debug, Clone, PartialEq)]
struct Butter {
    kind: &'static str,
    /// `[cutoff, unused]` for lowpass/highpass, `[low, high]` for the bands.
    edges: [f64; 2],
    order: usize,
    zero_phase: bool,
}

impl Butter {
    fn new(kind: &'static str, edges: [f64; 2]) -> Butter {
        Butter {
            kind,
            edges,
            order: 4,
            zero_phase: true,
        }
    }

    fn is_band(&self) -> bool {
        matches!(self.kind, "bandpass" | "bandstop")
    }

    fn band(&self) -> Band {
        let [a, b] = self.edges;
        match self.kind {
            "lowpass" => Band::Lowpass(a),
            "highpass" => Band::Highpass(a),
            "bandpass" => Band::Bandpass(a, b),
            _ => Band::Bandstop(a, b),
        }
    }

    /// Builds from registry parameters; the edge parameters are required.
    fn with_params(mut self, p: &Params) -> Result<Butter, StageError> {
        let required: &[&str] = if self.is_band() {
            &["low", "high"]
        } else {
            &["cutoff"]
        };
        params::require(self.kind, p, required)?;
        for (name, value) in p {
            self.set_param(name, value.clone())?;
        }
        self.check_edges()?;
        Ok(self)
    }

    fn check_edges(&self) -> Result<(), StageError> {
        let [low, high] = self.edges;
        if self.is_band() && low.partial_cmp(&high) != Some(Ordering::Less) {
            return Err(format!("{}: low {low} must be below high {high}", self.kind).into());
        }
        Ok(())
    }

    /// Checks the parameters against the trace's sample rate, with their names.
    fn check_against(&self, fs: f64) -> Result<(), StageError> {
        self.check_edges()?;
        let kind = self.kind;
        let order = self.order;
        if !(1..=MAX_ORDER).contains(&order) {
            return Err(
                format!("{kind}: order must be between 1 and {MAX_ORDER}, got {order}").into(),
            );
        }
        let nyquist = fs / 2.0;
        let names: &[&str] = if self.is_band() {
            &["low", "high"]
        } else {
            &["cutoff"]
        };
        for (name, f) in names.iter().zip(self.edges) {
            if f.partial_cmp(&0.0) != Some(Ordering::Greater) {
                return Err(format!("{kind}: {name} must be greater than 0, got {f}").into());
            }
            if f >= nyquist {
                return Err(format!(
                    "{kind}: {name} {f} must be below the Nyquist frequency {nyquist} \
                     (half the sample rate {fs})"
                )
                .into());
            }
        }
        Ok(())
    }

    fn transform(&self, inputs: &[&Trace]) -> Result<Trace, StageError> {
        let kind = self.kind;
        let t = one(kind, inputs)?;
        let fs = t.sample_rate();
        self.check_against(fs)?;
        if t.is_empty() {
            return Err(
                format!("{kind}: the input trace is empty (0 samples); nothing to filter").into(),
            );
        }
        let sos = butter_sos(self.order, self.band(), fs).map_err(|e| format!("{kind}: {e}"))?;
        let y = if self.zero_phase {
            sosfiltfilt_pooled(&sos, t.samples(), SampleVec::with_capacity)
        } else {
            sosfilt_pooled(&sos, t.samples(), SampleVec::with_capacity).map_err(StageError::from)
        };
        Ok(t.derive_samples(y.map_err(|e| format!("{kind}: {e}"))?))
    }

    fn get_params(&self) -> Params {
        let mut p = Params::from([
            ("order".to_owned(), ParamValue::from(self.order)),
            ("zero_phase".to_owned(), ParamValue::Bool(self.zero_phase)),
        ]);
        if self.is_band() {
            p.insert("low".to_owned(), ParamValue::Float(self.edges[0]));
            p.insert("high".to_owned(), ParamValue::Float(self.edges[1]));
        } else {
            p.insert("cutoff".to_owned(), ParamValue::Float(self.edges[0]));
        }
        p
    }

    fn set_param(&mut self, name: &str, value: ParamValue) -> Result<(), StageError> {
        let kind = self.kind;
        let edge = match (name, self.is_band()) {
            ("cutoff", false) | ("low", true) => Some(0),
            ("high", true) => Some(1),
            _ => None,
        };
        if let Some(i) = edge {
            let f = params::finite(kind, name, &value)?;
            if f <= 0.0 {
                return Err(
                    format!("{kind}: parameter '{name}' must be greater than 0, got {f}").into(),
                );
            }
            self.edges[i] = f;
            return Ok(());
        }
        match name {
            "order" => {
                let order = params::count(kind, name, &value)?;
                if !(1..=MAX_ORDER).contains(&order) {
                    return Err(format!(
                        "{kind}: parameter 'order' must be between 1 and {MAX_ORDER}, got {order}"
                    )
                    .into());
                }
                self.order = order;
            }
            "zero_phase" => self.zero_phase = params::flag(kind, name, &value)?,
            _ => return Err(tracekit_core::unknown_param(name, &self.get_params())),
        }
        Ok(())
    }
}

macro_rules! butter_kind {
    ($(#[$doc:meta])* $name:ident, $kind:literal, ($($arg:ident),+), $params:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq)]
        pub struct $name(Butter);

        impl $name {
            #[doc = concat!("A ", $kind, " of order 4, zero-phase; frequencies in the unit of the trace's sample rate.")]
            pub fn new($($arg: f64),+) -> $name {
                let edges = [$($arg,)+ 0.0];
                $name(Butter::new($kind, [edges[0], edges[1]]))
            }

            /// The same filter with another order (1 to 16; checked when it runs).
            pub fn with_order(mut self, order: usize) -> $name {
                self.0.order = order;
                self
            }

            /// The same filter run forward only (`sosfilt`) or forward-backward (`sosfiltfilt`).
            pub fn with_zero_phase(mut self, zero_phase: bool) -> $name {
                self.0.zero_phase = zero_phase;
                self
            }

            #[doc = concat!("Builds from registry parameters (", $params, ", `order` 4, `zero_phase` true).")]
            pub fn from_params(p: &Params) -> Result<$name, StageError> {
                Butter::new($kind, [0.0, 0.0]).with_params(p).map($name)
            }
        }

        impl Transformer for $name {
            fn transform(&self, inputs: &[&Trace]) -> Result<Trace, StageError> {
                self.0.transform(inputs)
            }

            fn kind(&self) -> &str {
                $kind
            }

            fn get_params(&self) -> Params {
                self.0.get_params()
            }

            fn set_param(&mut self, name: &str, value: ParamValue) -> Result<(), StageError> {
                self.0.set_param(name, value)
            }
        }
    };
}

butter_kind!(
    /// Butterworth lowpass: `scipy.signal.butter(order, cutoff, 'lowpass', fs=fs, output='sos')`,
    /// then `sosfiltfilt` (zero-phase, the default) or `sosfilt`.
    ///
    /// The cutoff must lie strictly between 0 and half the trace's sample rate.
    ///
    /// ```
    /// use tracekit_core::{Trace, Transformer};
    /// use tracekit_dsp::Lowpass;
    ///
    /// let t = Trace::new(vec![1.0; 64], 1000.0)?;
    /// let out = Lowpass::new(100.0).with_order(2).transform(&[&t])?;
    /// assert!(out.samples().iter().all(|v| (v - 1.0).abs() < 1e-9));
    /// assert!(Lowpass::new(600.0).transform(&[&t]).is_err()); // above Nyquist (500)
    /// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    /// ```
    Lowpass, "lowpass", (cutoff), "`cutoff` required"
);

butter_kind!(
    /// Butterworth highpass: `scipy.signal.butter(order, cutoff, 'highpass', fs=fs, output='sos')`,
    /// then `sosfiltfilt` (zero-phase, the default) or `sosfilt`.
    Highpass, "highpass", (cutoff), "`cutoff` required"
);

butter_kind!(
    /// Butterworth bandpass: `scipy.signal.butter(order, [low, high], 'bandpass', fs=fs, output='sos')`,
    /// then `sosfiltfilt` (zero-phase, the default) or `sosfilt`.
    Bandpass, "bandpass", (low, high), "`low` and `high` required"
);

butter_kind!(
    /// Butterworth bandstop: `scipy.signal.butter(order, [low, high], 'bandstop', fs=fs, output='sos')`,
    /// then `sosfiltfilt` (zero-phase, the default) or `sosfilt`.
    Bandstop, "bandstop", (low, high), "`low` and `high` required"
);
