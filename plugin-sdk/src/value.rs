//! The values a strategy reads and writes, as the SDK's own types: they mirror the WIT
//! contract's records and variants, but a change there is a change of the SDK's conversions,
//! not of the types plugin authors name.

/// A single profile value: an element of a [`Value::List`].
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    /// JSON `null`.
    Null,
    /// A JSON boolean.
    Boolean(bool),
    /// A JSON number without fraction or exponent that fits in 64 bits.
    Integer(i64),
    /// Any other JSON number an `f64` holds.
    Number(f64),
    /// A JSON string.
    Text(String),
}

/// A profile attribute value, as Okta sends it in JSON.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// JSON `null`.
    Null,
    /// A JSON boolean.
    Boolean(bool),
    /// A JSON number without fraction or exponent that fits in 64 bits.
    Integer(i64),
    /// Any other JSON number an `f64` holds.
    Number(f64),
    /// A JSON string.
    Text(String),
    /// A JSON array whose elements are all scalars.
    List(Vec<Scalar>),
    /// Any other JSON value (an object, a nested array, a number no `f64` holds) as compact
    /// JSON text; the host sends it back to Okta exactly as parsed.
    Json(String),
}

/// One named attribute of a profile update.
#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    /// The attribute's name, e.g. `login`.
    pub name: String,
    /// Its new value.
    pub value: Value,
}

/// The app the import comes from (`data.context.application`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Application {
    /// Okta's app id.
    pub id: String,
    /// The app's name (e.g. `csv`).
    pub name: String,
    /// The label the admin gave it.
    pub label: String,
    /// Its status (e.g. `ACTIVE`).
    pub status: String,
}

/// The import job (`data.context.job`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// Okta's job id.
    pub id: String,
    /// The job's `type` (e.g. `import:users`).
    pub kind: String,
}

/// What a strategy decides Okta should do with the imported user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Create a new Okta user.
    CreateUser,
    /// Link to the existing Okta user with this id.
    LinkUser(String),
}

impl Value {
    /// The text, when this is `text`.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::Text(t) => Some(t),
            _ => None,
        }
    }

    /// The boolean, when this is `boolean`.
    pub fn as_boolean(&self) -> Option<bool> {
        match self {
            Value::Boolean(b) => Some(*b),
            _ => None,
        }
    }

    /// The integer, when this is `integer`.
    pub fn as_integer(&self) -> Option<i64> {
        match self {
            Value::Integer(i) => Some(*i),
            _ => None,
        }
    }

    /// The number, when this is `integer` or `number`.
    pub fn as_number(&self) -> Option<f64> {
        match self {
            Value::Integer(i) => Some(*i as f64),
            Value::Number(f) => Some(*f),
            _ => None,
        }
    }

    /// True for `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
}

impl From<&str> for Value {
    fn from(text: &str) -> Self {
        Value::Text(text.to_owned())
    }
}

impl From<String> for Value {
    fn from(text: String) -> Self {
        Value::Text(text)
    }
}

impl From<&String> for Value {
    fn from(text: &String) -> Self {
        Value::Text(text.clone())
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Boolean(b)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Integer(i)
    }
}

impl From<f64> for Value {
    fn from(f: f64) -> Self {
        Value::Number(f)
    }
}

impl From<Vec<String>> for Value {
    fn from(items: Vec<String>) -> Self {
        Value::List(items.into_iter().map(Scalar::Text).collect())
    }
}
