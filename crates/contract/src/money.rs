//! Money as the contract writes it: a decimal string with exactly two places.

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Mul, Sub};
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

/// An amount in the deployment's one currency, exact to the minor unit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money(Decimal);

/// Why a text is not an amount of money.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MoneyError {
    NotANumber,
    Negative,
    TooPrecise,
    TooLarge,
}

impl fmt::Display for MoneyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MoneyError::NotANumber => "is not an amount (write it like \"12.50\")",
            MoneyError::Negative => "must not be negative",
            MoneyError::TooPrecise => "has more than two decimal places",
            MoneyError::TooLarge => "is too large",
        })
    }
}

impl std::error::Error for MoneyError {}

impl Money {
    pub const ZERO: Money = Money(Decimal::ZERO);

    /// Builds an amount from minor units (pence, cents).
    pub fn from_minor(minor: i64) -> Money {
        Money(Decimal::new(minor, 2))
    }

    /// The amount in minor units, or `None` if it does not fit in an `i64`.
    pub fn to_minor(self) -> Option<i64> {
        let scaled = (self.0 * Decimal::ONE_HUNDRED).round();
        i64::try_from(scaled).ok()
    }

    pub fn as_decimal(self) -> Decimal {
        self.0
    }

    /// Parses a non-negative amount with at most two decimal places.
    pub fn parse(text: &str) -> Result<Money, MoneyError> {
        let decimal = Decimal::from_str(text.trim()).map_err(|_| MoneyError::NotANumber)?;
        Money::from_decimal(decimal)
    }

    pub fn from_decimal(decimal: Decimal) -> Result<Money, MoneyError> {
        if decimal.is_sign_negative() && !decimal.is_zero() {
            return Err(MoneyError::Negative);
        }
        if decimal.normalize().scale() > 2 {
            return Err(MoneyError::TooPrecise);
        }
        let money = Money(decimal);
        // Amounts are stored as integer minor units; a billion is far from their edge.
        const MAX_MINOR: i64 = 1_000_000_000 * 100;
        match money.to_minor() {
            Some(minor) if minor <= MAX_MINOR => Ok(money),
            _ => Err(MoneyError::TooLarge),
        }
    }

    /// The amount for people, its whole units in groups of three: `1,424.50`.
    pub fn grouped(self) -> String {
        let plain = self.to_string();
        let (sign, digits) = match plain.strip_prefix('-') {
            Some(digits) => ("-", digits),
            None => ("", plain.as_str()),
        };
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, "00"));
        let mut grouped = String::with_capacity(plain.len() + whole.len() / 3);
        grouped.push_str(sign);
        for (i, digit) in whole.chars().enumerate() {
            if i > 0 && (whole.len() - i) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(digit);
        }
        grouped.push('.');
        grouped.push_str(fraction);
        grouped
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.2}", self.0)
    }
}

impl Add for Money {
    type Output = Money;
    fn add(self, rhs: Money) -> Money {
        Money(self.0 + rhs.0)
    }
}

impl AddAssign for Money {
    fn add_assign(&mut self, rhs: Money) {
        self.0 += rhs.0;
    }
}

impl Sub for Money {
    type Output = Money;
    fn sub(self, rhs: Money) -> Money {
        Money(self.0 - rhs.0)
    }
}

impl Mul<u32> for Money {
    type Output = Money;
    fn mul(self, rhs: u32) -> Money {
        Money(self.0 * Decimal::from(rhs))
    }
}

impl Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        iter.fold(Money::ZERO, Add::add)
    }
}

impl<'a> Sum<&'a Money> for Money {
    fn sum<I: Iterator<Item = &'a Money>>(iter: I) -> Money {
        iter.copied().sum()
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Money, D::Error> {
        struct MoneyVisitor;

        impl de::Visitor<'_> for MoneyVisitor {
            type Value = Money;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an amount of money as a decimal string like \"12.50\"")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<Money, E> {
                Money::parse(text).map_err(|err| E::custom(format!("amount \"{text}\" {err}")))
            }
        }

        deserializer.deserialize_str(MoneyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn always_two_decimals() {
        assert_eq!(Money::from_minor(1250).to_string(), "12.50");
        assert_eq!(Money::from_minor(5).to_string(), "0.05");
        assert_eq!(Money::parse("7").unwrap().to_string(), "7.00");
        assert_eq!(Money::parse("7.5").unwrap().to_string(), "7.50");
        assert_eq!(
            serde_json::to_string(&Money::from_minor(100)).unwrap(),
            "\"1.00\""
        );
    }

    #[test]
    fn parses_and_rejects() {
        assert_eq!(Money::parse("12.50").unwrap().to_minor(), Some(1250));
        assert_eq!(Money::parse("12.345"), Err(MoneyError::TooPrecise));
        assert_eq!(Money::parse("-1"), Err(MoneyError::Negative));
        assert_eq!(Money::parse("twelve"), Err(MoneyError::NotANumber));
        assert_eq!(Money::parse("1e40"), Err(MoneyError::NotANumber));
        assert_eq!(Money::parse("99999999999999"), Err(MoneyError::TooLarge));
        // Trailing zeros beyond two places are still exact.
        assert_eq!(Money::parse("3.100").unwrap().to_minor(), Some(310));
    }

    #[test]
    fn arithmetic_is_exact() {
        let total: Money = [Money::parse("0.10").unwrap(); 3].iter().sum();
        assert_eq!(total.to_string(), "0.30");
        assert_eq!((Money::from_minor(1250) * 3).to_string(), "37.50");
    }

    #[test]
    fn deserialises_from_string_only() {
        let money: Money = serde_json::from_str("\"4.20\"").unwrap();
        assert_eq!(money.to_minor(), Some(420));
        assert!(serde_json::from_str::<Money>("4.2").is_err());
    }
}
