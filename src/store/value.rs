//! Values crossing the store's interface: parameters going in, columns
//! coming out, the same on both backends.

use std::borrow::Cow;

use super::StoreError;

/// A statement parameter.
#[derive(Clone, Debug, PartialEq)]
pub enum Value<'a> {
    /// SQL `NULL`.
    Null,
    /// A 64-bit integer (truth values are 0 or 1).
    Int(i64),
    /// A floating-point number.
    Real(f64),
    /// Text.
    Text(Cow<'a, str>),
}

/// What can be a statement parameter.
pub trait ToValue {
    /// The parameter, borrowing from `self`.
    fn to_value(&self) -> Value<'_>;
}

macro_rules! integers {
    ($($ty:ty),*) => {$(
        impl ToValue for $ty {
            fn to_value(&self) -> Value<'_> {
                Value::Int(i64::try_from(*self).unwrap_or(i64::MAX))
            }
        }
    )*};
}
integers!(i64, i32, u8, u16, u32, u64, usize);

impl ToValue for bool {
    fn to_value(&self) -> Value<'_> {
        Value::Int(i64::from(*self))
    }
}

impl ToValue for f64 {
    fn to_value(&self) -> Value<'_> {
        Value::Real(*self)
    }
}

impl ToValue for str {
    fn to_value(&self) -> Value<'_> {
        Value::Text(Cow::Borrowed(self))
    }
}

impl ToValue for String {
    fn to_value(&self) -> Value<'_> {
        Value::Text(Cow::Borrowed(self))
    }
}

impl ToValue for Cow<'_, str> {
    fn to_value(&self) -> Value<'_> {
        Value::Text(Cow::Borrowed(self))
    }
}

impl<T: ToValue + ?Sized> ToValue for &T {
    fn to_value(&self) -> Value<'_> {
        (**self).to_value()
    }
}

impl<T: ToValue> ToValue for Option<T> {
    fn to_value(&self) -> Value<'_> {
        self.as_ref().map_or(Value::Null, ToValue::to_value)
    }
}

impl ToValue for Value<'_> {
    fn to_value(&self) -> Value<'_> {
        match self {
            Value::Text(text) => Value::Text(Cow::Borrowed(text)),
            Value::Null => Value::Null,
            Value::Int(int) => Value::Int(*int),
            Value::Real(real) => Value::Real(*real),
        }
    }
}

/// A column of a result row as either backend gives it.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell<'a> {
    /// SQL `NULL`.
    Null,
    /// An integer (PostgreSQL's `boolean` reads as 0 or 1).
    Int(i64),
    /// A floating-point number.
    Real(f64),
    /// Text.
    Text(Cow<'a, str>),
}

/// A backend's result row.
pub(super) trait Cells {
    /// Column `index`, from 0.
    fn cell(&self, index: usize) -> Result<Cell<'_>, StoreError>;
}

/// A result row, read column by column with [`Row::get`].
pub struct Row<'r> {
    cells: &'r dyn Cells,
}

impl<'r> Row<'r> {
    pub(super) fn new(cells: &'r dyn Cells) -> Self {
        Row { cells }
    }

    /// Column `index` (from 0) as a `T`.
    pub fn get<T: FromColumn>(&self, index: usize) -> Result<T, StoreError> {
        T::from_cell(self.cells.cell(index)?)
            .map_err(|found| StoreError::Invalid(format!("column {index}: {found}")))
    }

    /// The first columns, in order, as a tuple: `row.columns::<(i64, String)>()`.
    pub fn columns<T: FromRow>(&self) -> Result<T, StoreError> {
        T::from_row(self)
    }
}

/// What the first columns of a row can be read as together
/// ([`Row::columns`]): tuples of up to seven [`FromColumn`] values.
pub trait FromRow: Sized {
    /// The row's first columns as `Self`.
    fn from_row(row: &Row<'_>) -> Result<Self, StoreError>;
}

/// [`FromRow`] for a tuple of the given types, read from the given
/// columns.
macro_rules! tuple_from_row {
    ($($kind:ident $index:tt),+) => {
        impl<$($kind: FromColumn),+> FromRow for ($($kind,)+) {
            fn from_row(row: &Row<'_>) -> Result<Self, StoreError> {
                Ok(($(row.get::<$kind>($index)?,)+))
            }
        }
    };
}

tuple_from_row!(A 0, B 1);
tuple_from_row!(A 0, B 1, C 2);
tuple_from_row!(A 0, B 1, C 2, D 3);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4, F 5);
tuple_from_row!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);

/// What a column can be read as.
pub trait FromColumn: Sized {
    /// The value of `cell`, or what was found instead.
    fn from_cell(cell: Cell<'_>) -> Result<Self, String>;
}

fn unexpected(cell: &Cell<'_>, wanted: &str) -> String {
    format!("expected {wanted}, found {cell:?}")
}

macro_rules! integer_columns {
    ($($ty:ty),*) => {$(
        impl FromColumn for $ty {
            fn from_cell(cell: Cell<'_>) -> Result<Self, String> {
                match cell {
                    Cell::Int(int) => <$ty>::try_from(int)
                        .map_err(|_| format!("{int} does not fit {}", stringify!($ty))),
                    other => Err(unexpected(&other, "an integer")),
                }
            }
        }
    )*};
}
integer_columns!(i64, i32, u8, u16, u32, u64, usize);

impl FromColumn for bool {
    fn from_cell(cell: Cell<'_>) -> Result<Self, String> {
        match cell {
            Cell::Int(int) => Ok(int != 0),
            other => Err(unexpected(&other, "a truth value")),
        }
    }
}

impl FromColumn for f64 {
    fn from_cell(cell: Cell<'_>) -> Result<Self, String> {
        match cell {
            Cell::Real(real) => Ok(real),
            Cell::Int(int) => Ok(int as f64),
            other => Err(unexpected(&other, "a number")),
        }
    }
}

impl FromColumn for String {
    fn from_cell(cell: Cell<'_>) -> Result<Self, String> {
        match cell {
            Cell::Text(text) => Ok(text.into_owned()),
            other => Err(unexpected(&other, "text")),
        }
    }
}

impl<T: FromColumn> FromColumn for Option<T> {
    fn from_cell(cell: Cell<'_>) -> Result<Self, String> {
        match cell {
            Cell::Null => Ok(None),
            other => T::from_cell(other).map(Some),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed(Vec<Cell<'static>>);

    impl Cells for Fixed {
        fn cell(&self, index: usize) -> Result<Cell<'_>, StoreError> {
            Ok(self.0[index].clone())
        }
    }

    /// Columns read as the types the runtime asks for, and a value that
    /// does not fit is an error naming the column, never a wrap-around.
    #[test]
    fn columns_read_as_asked_and_refuse_what_does_not_fit() {
        let fixed = Fixed(vec![
            Cell::Int(300),
            Cell::Null,
            Cell::Text("x".into()),
            Cell::Int(1),
        ]);
        let row = Row::new(&fixed);
        assert_eq!(row.get::<i64>(0).unwrap(), 300);
        assert_eq!(row.get::<Option<String>>(1).unwrap(), None);
        assert_eq!(row.get::<String>(2).unwrap(), "x");
        assert!(row.get::<bool>(3).unwrap());
        let error = row.get::<u8>(0).unwrap_err().to_string();
        assert!(
            error.contains("column 0") && error.contains("300"),
            "{error}"
        );
        assert!(row.get::<i64>(2).is_err());
        assert_eq!(true.to_value(), Value::Int(1));
        assert_eq!(None::<i64>.to_value(), Value::Null);
    }
}
