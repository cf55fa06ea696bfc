//! Binary `numeric` to the text the server would print for it, which Python's Decimal
//! then reads: the digits, the sign and the display scale survive exactly.

const NUMERIC_NEG: u16 = 0x4000;
const NUMERIC_NAN: u16 = 0xC000;
const NUMERIC_PINF: u16 = 0xD000;
const NUMERIC_NINF: u16 = 0xF000;

/// The server's text form of a binary numeric: base-10000 digits with a weight (power of
/// 10000 of the first digit) and a display scale (decimal digits after the point).
pub fn binary_to_text(raw: &[u8]) -> Result<String, &'static str> {
    let field = |at: usize| {
        raw.get(at..at + 2)
            .map(|b| [b[0], b[1]])
            .map(u16::from_be_bytes)
            .ok_or("truncated header")
    };
    let ndigits = usize::from(field(0)?);
    let weight = i64::from(field(2)? as i16);
    let sign = field(4)?;
    let dscale = i64::from(field(6)?);
    match sign {
        NUMERIC_NAN => return Ok("NaN".into()),
        NUMERIC_PINF => return Ok("Infinity".into()),
        NUMERIC_NINF => return Ok("-Infinity".into()),
        0 | NUMERIC_NEG => {}
        _ => return Err("bad sign"),
    }
    if raw.len() != 8 + 2 * ndigits {
        return Err("digit count does not match the length");
    }
    let groups = &raw[8..];
    if groups
        .chunks_exact(2)
        .any(|g| u16::from_be_bytes([g[0], g[1]]) >= 10000)
    {
        return Err("digit out of range");
    }
    // Base-10000 digit i (0 is the first), zero outside the stored ones.
    let digit = |i: i64| -> u16 {
        usize::try_from(i)
            .ok()
            .and_then(|i| groups.get(2 * i..2 * i + 2))
            .map_or(0, |g| u16::from_be_bytes([g[0], g[1]]))
    };
    let int_groups = usize::try_from(weight + 1).unwrap_or(0);
    let mut out = String::with_capacity(3 + 4 * int_groups + dscale as usize + 4);
    if sign == NUMERIC_NEG {
        out.push('-');
    }
    if weight < 0 {
        out.push('0');
    } else {
        // The first group without its leading zeros, then four digits per group.
        let first = digit(0);
        let mut four = [0u8; 4];
        let skip = four_digits(first, &mut four)
            .iter()
            .take(3)
            .take_while(|&&b| b == b'0')
            .count();
        four[skip..].iter().for_each(|&b| out.push(char::from(b)));
        for i in 1..=weight {
            push_four(&mut out, digit(i));
        }
    }
    if dscale > 0 {
        out.push('.');
        let start = out.len();
        let mut i = weight + 1;
        while ((out.len() - start) as i64) < dscale {
            push_four(&mut out, digit(i));
            i += 1;
        }
        out.truncate(start + dscale as usize);
    }
    Ok(out)
}

/// `d` (< 10000) as four ASCII digits.
fn four_digits(d: u16, out: &mut [u8; 4]) -> &[u8; 4] {
    *out = [
        b'0' + (d / 1000 % 10) as u8,
        b'0' + (d / 100 % 10) as u8,
        b'0' + (d / 10 % 10) as u8,
        b'0' + (d % 10) as u8,
    ];
    out
}

fn push_four(out: &mut String, d: u16) {
    let mut four = [0u8; 4];
    four_digits(d, &mut four)
        .iter()
        .for_each(|&b| out.push(char::from(b)));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(ndigits: u16, weight: i16, sign: u16, dscale: u16, digits: &[u16]) -> Vec<u8> {
        let mut v = Vec::new();
        for x in [ndigits, weight as u16, sign, dscale].iter().chain(digits) {
            v.extend_from_slice(&x.to_be_bytes());
        }
        v
    }

    #[test]
    fn numeric_digits() {
        assert_eq!(binary_to_text(&enc(2, 0, 0, 3, &[1, 5000])).unwrap(), "1.500");
        assert_eq!(binary_to_text(&enc(1, 1, 0, 0, &[12])).unwrap(), "120000");
        assert_eq!(
            binary_to_text(&enc(1, -5, 0, 20, &[1])).unwrap(),
            "0.00000000000000000001"
        );
        assert_eq!(
            binary_to_text(&enc(2, 1, NUMERIC_NEG, 2, &[1, 2345])).unwrap(),
            "-12345.00"
        );
        assert_eq!(binary_to_text(&enc(0, 0, 0, 0, &[])).unwrap(), "0");
        // The first group loses its leading zeros, the others keep all four digits.
        assert_eq!(binary_to_text(&enc(2, 1, 0, 0, &[12, 34])).unwrap(), "120034");
        assert_eq!(binary_to_text(&enc(1, 0, 0, 0, &[1000])).unwrap(), "1000");
        assert_eq!(binary_to_text(&enc(1, 0, 0, 1, &[7])).unwrap(), "7.0");
        assert_eq!(binary_to_text(&enc(1, -1, 0, 6, &[5])).unwrap(), "0.000500");
        assert_eq!(binary_to_text(&enc(0, 0, 0, 2, &[])).unwrap(), "0.00");
        assert_eq!(binary_to_text(&enc(0, 0, NUMERIC_NAN, 0, &[])).unwrap(), "NaN");
        assert_eq!(
            binary_to_text(&enc(0, 0, NUMERIC_NINF, 0, &[])).unwrap(),
            "-Infinity"
        );
        assert!(binary_to_text(&enc(2, 0, 0, 0, &[1])).is_err());
        assert!(binary_to_text(&enc(1, 0, 0, 0, &[10000])).is_err());
        assert!(binary_to_text(&[0, 1]).is_err());
    }

    /// The plain construction: every group printed with `format!`, then cut to the scale.
    fn naive(ndigits: &[u16], weight: i16, neg: bool, dscale: u16) -> String {
        let digit = |i: i64| {
            usize::try_from(i)
                .ok()
                .and_then(|i| ndigits.get(i))
                .copied()
                .unwrap_or(0)
        };
        let mut out = String::from(if neg { "-" } else { "" });
        if weight < 0 {
            out.push('0');
        } else {
            out.push_str(&digit(0).to_string());
            for i in 1..=i64::from(weight) {
                out.push_str(&format!("{:04}", digit(i)));
            }
        }
        if dscale > 0 {
            let mut frac = String::new();
            let mut i = i64::from(weight) + 1;
            while frac.len() < usize::from(dscale) {
                frac.push_str(&format!("{:04}", digit(i)));
                i += 1;
            }
            out.push('.');
            out.push_str(&frac[..usize::from(dscale)]);
        }
        out
    }

    proptest::proptest! {
        #[test]
        fn matches_the_plain_construction(
            digits in proptest::collection::vec(0u16..10000, 0..12),
            weight in -8i16..12,
            neg: bool,
            dscale in 0u16..60,
        ) {
            let sign = if neg { NUMERIC_NEG } else { 0 };
            let raw = enc(digits.len() as u16, weight, sign, dscale, &digits);
            proptest::prop_assert_eq!(binary_to_text(&raw).unwrap(), naive(&digits, weight, neg, dscale));
        }

        #[test]
        fn arbitrary_bytes_never_panic(raw in proptest::collection::vec(proptest::num::u8::ANY, 0..40)) {
            let _ = binary_to_text(&raw);
        }
    }
}
