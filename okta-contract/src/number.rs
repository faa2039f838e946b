//! How a profile number is handed to a strategy: as a typed integer or float only when that
//! type gives back exactly the text Okta sent; otherwise as its JSON text. One rule for the
//! host and the SDK, so a strategy that writes a value back unchanged never sends Okta a
//! spurious update (`1.50` read as `1.5` and written back would differ from what Okta holds).

use serde_json::Number;

/// The form a JSON number takes for a strategy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NumberForm {
    /// An integer that `i64` holds and prints back the same (`42`, `-7`).
    Integer(i64),
    /// A number that `f64` holds and prints back the same (`1.5`, `0.1`).
    Float(f64),
    /// Anything else (`1e400`, `1.50`, `1E2`, `-0`, integers past 64 bits): kept as JSON text.
    Text,
}

/// The form of `n` (see [`NumberForm`]).
pub fn number_form(n: &Number) -> NumberForm {
    let text = n.to_string();
    if let Some(i) = n.as_i64()
        && Number::from(i).to_string() == text
    {
        return NumberForm::Integer(i);
    }
    if let Some(f) = n.as_f64().filter(|f| f.is_finite())
        && Number::from_f64(f).is_some_and(|back| back.to_string() == text)
    {
        return NumberForm::Float(f);
    }
    NumberForm::Text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(text: &str) -> NumberForm {
        number_form(&serde_json::from_str::<Number>(text).expect("a number"))
    }

    #[test]
    fn only_numbers_that_print_back_the_same_are_typed() {
        assert_eq!(form("42"), NumberForm::Integer(42));
        assert_eq!(form("-7"), NumberForm::Integer(-7));
        assert_eq!(form("1.5"), NumberForm::Float(1.5));
        assert_eq!(form("0.1"), NumberForm::Float(0.1));
        for text in [
            "1e400",
            "1.50",
            "1E2",
            "1e5",
            "-0",
            "18446744073709551616",
            "1.0e1",
        ] {
            assert_eq!(form(text), NumberForm::Text, "{text}");
        }
    }
}
