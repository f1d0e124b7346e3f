//! The `costs_file` and `ratings_file` CSVs: data, like the tables.

use super::*;
use std::path::PathBuf;

/// Splits one CSV line (quotes, doubled quotes inside quotes).
pub(crate) fn csv_fields(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out.into_iter().map(|f| f.trim().to_string()).collect()
}

/// Rows of a CSV with a header, as maps by lower-cased header name.
pub(super) fn csv_rows(path: &Path) -> std::io::Result<Vec<HashMap<String, String>>> {
    let text = std::fs::read_to_string(path)?;
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let Some(header) = lines.next() else {
        return Ok(Vec::new());
    };
    let names: Vec<String> = csv_fields(header.trim_start_matches('\u{feff}'))
        .into_iter()
        .map(|h| h.to_ascii_lowercase().replace([' ', '-'], "_"))
        .collect();
    Ok(lines
        .map(|l| names.iter().cloned().zip(csv_fields(l)).collect())
        .collect())
}

/// A file an account names, or else the config-wide one (`costs_file`,
/// `ratings_file`), read with `read`: `None` without a file, empty when it
/// cannot be read.
pub(super) fn read_file<T: Default>(
    own: &Option<PathBuf>,
    global: &Option<PathBuf>,
    read: fn(&Path) -> std::io::Result<T>,
) -> Option<T> {
    own.as_ref()
        .or(global.as_ref())
        .map(|p| read(p).unwrap_or_default())
}

/// `costs_file`: sku, unit_cost, inbound_freight.
pub fn read_costs(path: &Path) -> std::io::Result<HashMap<String, CostRow>> {
    Ok(csv_rows(path)?
        .into_iter()
        .filter_map(|r| {
            let sku = r.get("sku")?.clone();
            let unit_cost = r.get("unit_cost")?.parse().ok()?;
            let inbound_freight = r
                .get("inbound_freight")
                .and_then(|x| x.parse().ok())
                .unwrap_or(0.0);
            Some((
                sku,
                CostRow {
                    unit_cost,
                    inbound_freight,
                },
            ))
        })
        .collect())
}

/// `ratings_file`: asin, rating, rating_count, date.
pub fn read_ratings(path: &Path) -> std::io::Result<Vec<RatingRow>> {
    Ok(csv_rows(path)?
        .into_iter()
        .filter_map(|r| {
            Some(RatingRow {
                asin: r.get("asin")?.clone(),
                rating: r.get("rating")?.parse().ok()?,
                count: r.get("rating_count").and_then(|x| x.parse().ok()),
                date: parse_day(r.get("date")?)?,
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_lines_with_quotes() {
        assert_eq!(csv_fields(r#"a,"b,c","d""e""#), vec!["a", "b,c", "d\"e"]);
    }
}
