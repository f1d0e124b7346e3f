//! Rows read by column name into `#[derive(Deserialize)]` structs: the SQL
//! names each field once (`AS field` where the column differs), so a
//! reordered SELECT cannot put a value in the wrong field. A value of the
//! wrong type fails as a positional `Row::get` does
//! ([`rusqlite::Error::InvalidColumnType`]); the `deserialize_with` readers
//! below keep the store's lenient reading of stored timestamps.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, Params, Row, Statement};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

use super::StoreError;

/// Runs `sql` with `params` and reads every row into `T`.
pub(crate) fn rows<T: DeserializeOwned, P: Params>(
    conn: &Connection,
    sql: &str,
    params: P,
) -> Result<Vec<T>, StoreError> {
    statement_rows(&mut conn.prepare(sql)?, params)
}

/// [`rows`] of a prepared (e.g. cached) statement.
pub(crate) fn statement_rows<T: DeserializeOwned, P: Params>(
    stmt: &mut Statement<'_>,
    params: P,
) -> Result<Vec<T>, StoreError> {
    let columns = serde_rusqlite::columns_from_statement(stmt);
    let rows = stmt
        .query_and_then(params, |r| read(r, &columns))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Runs `sql` with `params` and reads its first row into `T`, if any.
pub(crate) fn first_row<T: DeserializeOwned, P: Params>(
    conn: &Connection,
    sql: &str,
    params: P,
) -> Result<Option<T>, StoreError> {
    let mut stmt = conn.prepare(sql)?;
    let columns = serde_rusqlite::columns_from_statement(&stmt);
    let mut rows = stmt.query(params)?;
    Ok(rows.next()?.map(|r| read(r, &columns)).transpose()?)
}

fn read<T: DeserializeOwned>(r: &Row<'_>, columns: &[String]) -> rusqlite::Result<T> {
    serde_rusqlite::from_row_with_columns(r, columns).map_err(|e| match e {
        serde_rusqlite::Error::Rusqlite(e) => e,
        serde_rusqlite::Error::Deserialization {
            column: Some(name), ..
        } => match r.as_ref().column_index(&name) {
            Ok(i) => match r.get_ref(i) {
                Ok(v) => rusqlite::Error::InvalidColumnType(i, name, v.data_type()),
                Err(e) => e,
            },
            Err(e) => e,
        },
        e => rusqlite::Error::InvalidColumnName(e.to_string()),
    })
}

/// A stored timestamp, if it is RFC 3339 text.
pub(crate) fn parse_ts(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// A stored timestamp (`ops::ts`) that may be NULL; text that is not
/// RFC 3339 reads as none.
pub(crate) fn opt_ts<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    Ok(Option::<String>::deserialize(d)?
        .as_deref()
        .and_then(parse_ts))
}

/// A stored timestamp; text that is not RFC 3339 reads as the epoch.
pub(crate) fn ts_or_epoch<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
    Ok(parse_ts(&String::deserialize(d)?).unwrap_or_default())
}

/// A stored timestamp that may be NULL; text that is not RFC 3339 reads
/// as the epoch.
pub(crate) fn opt_ts_or_epoch<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<DateTime<Utc>>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.map(|s| parse_ts(&s).unwrap_or_default()))
}
