//! `resource.Quantity` as apimachinery parses, compares and prints it: the same syntax errors
//! (`ErrFormatWrong`, `ErrSuffix`), exact comparison, and the canonical form error messages show.

use std::cmp::Ordering;

use serde_json::Value;

/// `resource.ErrFormatWrong`.
pub const FORMAT_WRONG: &str =
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
/// `resource.ErrSuffix`.
pub const SUFFIX: &str = "unable to parse quantity's suffix";

/// How a quantity is written, which decides its canonical form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `Ki`, `Mi`, ...
    BinarySi,
    /// `m`, `k`, `M`, ... or no suffix.
    DecimalSi,
    /// `e3`.
    DecimalExponent,
}

/// A parsed quantity: its value in units of 10⁻⁹ (exact for every suffix) and its format.
/// Quantities compare by value (`1Gi == 1024Mi`), as `apiequality.Semantic` compares them.
#[derive(Debug, Clone, Copy)]
pub struct Quantity {
    nanos: i128,
    format: Format,
}

/// Why a quantity does not parse (the message is the real one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    /// Not of the quantity grammar.
    #[error("{}", FORMAT_WRONG)]
    FormatWrong,
    /// The grammar holds but the suffix is unknown (`1iG`).
    #[error("{}", SUFFIX)]
    Suffix,
}

const NANO: i128 = 1_000_000_000;

impl Quantity {
    /// `resource.ParseQuantity`.
    pub fn parse(text: &str) -> Result<Self, QuantityError> {
        if text.is_empty() {
            return Err(QuantityError::FormatWrong);
        }
        let bytes = text.as_bytes();
        let end = bytes.len();
        let mut pos = 0;
        let mut positive = true;
        match bytes[0] {
            b'-' => {
                positive = false;
                pos += 1;
            }
            b'+' => pos += 1,
            _ => {}
        }
        while pos < end && bytes[pos] == b'0' {
            pos += 1;
        }
        if pos >= end {
            return Ok(Self {
                nanos: 0,
                format: Format::DecimalSi,
            });
        }
        let num_start = pos;
        while pos < end && bytes[pos].is_ascii_digit() {
            pos += 1;
        }
        let num = &text[num_start..pos];
        let mut denom = "";
        if pos < end && bytes[pos] == b'.' {
            pos += 1;
            let denom_start = pos;
            while pos < end && bytes[pos].is_ascii_digit() {
                pos += 1;
            }
            denom = &text[denom_start..pos];
        }
        let suffix_start = pos;
        while pos < end && b"eEinumkKMGTP".contains(&bytes[pos]) {
            pos += 1;
        }
        if pos < end && matches!(bytes[pos], b'-' | b'+') {
            pos += 1;
        }
        while pos < end && bytes[pos].is_ascii_digit() {
            pos += 1;
        }
        if pos < end {
            return Err(QuantityError::FormatWrong);
        }
        let suffix = &text[suffix_start..];
        let (base2, base10, format) = interpret(suffix).ok_or(QuantityError::Suffix)?;
        let digits = format!("{num}{denom}");
        let mantissa: i128 = if digits.is_empty() {
            0
        } else {
            digits.parse().unwrap_or(i128::MAX)
        };
        // value = mantissa × 10^(base10 − len(denom)) × 2^base2, kept in nanos.
        let exp10 = base10 - denom.len() as i32 + 9;
        let mut nanos = mantissa;
        if exp10 >= 0 {
            for _ in 0..exp10 {
                nanos = nanos.saturating_mul(10);
            }
        } else {
            let mut divisor: i128 = 1;
            for _ in 0..(-exp10).min(38) {
                divisor = divisor.saturating_mul(10);
            }
            // Below nano precision the real Quantity rounds up.
            nanos = (nanos + divisor - 1) / divisor;
        }
        for _ in 0..base2 {
            nanos = nanos.saturating_mul(2);
        }
        Ok(Self {
            nanos: if positive { nanos } else { -nanos },
            format,
        })
    }

    /// Parses a JSON value as `Quantity.UnmarshalJSON` does (strings trimmed, numbers as text).
    pub fn from_json(value: &Value) -> Result<Self, QuantityError> {
        match value {
            Value::String(text) => Self::parse(text.trim()),
            Value::Number(n) => Self::parse(&n.to_string()),
            _ => Err(QuantityError::FormatWrong),
        }
    }

    /// Whether the value is below zero.
    pub fn is_negative(&self) -> bool {
        self.nanos < 0
    }

    /// Whether the value is a whole number of units.
    pub fn is_integer(&self) -> bool {
        self.nanos % NANO == 0
    }

    /// The canonical text (`Quantity.String()` after canonicalization): `1024Mi` → `1Gi`,
    /// `1.5` → `1500m`, `2000` → `2k`.
    pub fn canonical(&self) -> String {
        if self.nanos == 0 {
            return "0".to_string();
        }
        let sign = if self.nanos < 0 { "-" } else { "" };
        let magnitude = self.nanos.abs();
        let whole = magnitude % NANO == 0;
        if self.format == Format::BinarySi && whole && magnitude >= 1024 * NANO {
            let mut units = magnitude / NANO;
            let mut exponent = 0;
            while units % 1024 == 0 && exponent < 6 {
                units /= 1024;
                exponent += 1;
            }
            let suffix = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"][exponent];
            return format!("{sign}{units}{suffix}");
        }
        let mut mantissa = magnitude;
        let mut exponent = -9;
        while mantissa % 1000 == 0 && exponent < 18 {
            mantissa /= 1000;
            exponent += 3;
        }
        if self.format == Format::DecimalExponent {
            return if exponent == 0 {
                format!("{sign}{mantissa}")
            } else {
                format!("{sign}{mantissa}e{exponent}")
            };
        }
        let suffix = match exponent {
            -9 => "n",
            -6 => "u",
            -3 => "m",
            3 => "k",
            6 => "M",
            9 => "G",
            12 => "T",
            15 => "P",
            18 => "E",
            _ => "",
        };
        format!("{sign}{mantissa}{suffix}")
    }
}

impl PartialEq for Quantity {
    fn eq(&self, other: &Self) -> bool {
        self.nanos == other.nanos
    }
}

impl Eq for Quantity {}

impl PartialOrd for Quantity {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Quantity {
    fn cmp(&self, other: &Self) -> Ordering {
        self.nanos.cmp(&other.nanos)
    }
}

/// (power of two, power of ten, format) of a suffix, or `None` for an unknown one.
fn interpret(suffix: &str) -> Option<(u32, i32, Format)> {
    let binary = |power| Some((power, 0, Format::BinarySi));
    let decimal = |power| Some((0, power, Format::DecimalSi));
    match suffix {
        "Ki" => binary(10),
        "Mi" => binary(20),
        "Gi" => binary(30),
        "Ti" => binary(40),
        "Pi" => binary(50),
        "Ei" => binary(60),
        "n" => decimal(-9),
        "u" => decimal(-6),
        "m" => decimal(-3),
        "" => decimal(0),
        "k" => decimal(3),
        "M" => decimal(6),
        "G" => decimal(9),
        "T" => decimal(12),
        "P" => decimal(15),
        "E" => decimal(18),
        other => {
            let exponent = other.strip_prefix(['e', 'E'])?;
            if exponent.is_empty() {
                return None;
            }
            let exponent: i32 = exponent.parse().ok()?;
            Some((0, exponent, Format::DecimalExponent))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(text: &str) -> Quantity {
        Quantity::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn parses_and_compares_across_suffixes() {
        assert_eq!(q("1Gi"), q("1024Mi"));
        assert_eq!(q("1Gi").cmp(&q("1073741824")), Ordering::Equal);
        assert!(q("100m") < q("1"));
        assert!(q("0.5Gi") < q("1Gi"));
        assert_eq!(q("1e3"), q("1k"));
        assert!(q("-1").is_negative());
        assert_eq!(q("0"), q("0Mi"));
    }

    #[test]
    fn syntax_errors_are_the_real_ones() {
        for bad in ["", "abc", "1Gx", "1KB", "1.5.5", "1Mi2Gi"] {
            assert_eq!(
                Quantity::parse(bad).map_err(|e| e.to_string()),
                Err(FORMAT_WRONG.to_string()),
                "{bad}"
            );
        }
        assert_eq!(Quantity::parse("1iG"), Err(QuantityError::Suffix));
    }

    #[test]
    fn canonical_forms() {
        for (input, canonical) in [
            ("256Mi", "256Mi"),
            ("1024Mi", "1Gi"),
            ("1536Mi", "1536Mi"),
            ("0.5Gi", "512Mi"),
            ("100m", "100m"),
            ("1.5", "1500m"),
            ("2000", "2k"),
            ("1", "1"),
            ("1e3", "1e3"),
            ("512", "512"),
        ] {
            assert_eq!(q(input).canonical(), canonical, "{input}");
        }
    }
}
