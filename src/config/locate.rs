//! Maps a key path (`rules.conversion_rate.min_percent`,
//! `accounts[0].marketplaces[1]`) to its line and column in the TOML text,
//! so every configuration problem can say where it is.

use std::collections::HashMap;
use std::ops::Range;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// Line and column, both 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

/// Index of every key and array element of a document by its path.
pub struct Locator {
    /// path -> span of the key (for table entries) or of the element.
    spans: HashMap<String, Range<usize>>,
    line_starts: Vec<usize>,
}

impl Locator {
    /// Builds the index. A document that does not parse gives an empty
    /// index (the parse error itself carries the position).
    pub fn new(text: &str) -> Locator {
        let mut spans = HashMap::new();
        if let Ok(doc) = DeTable::parse(text) {
            index_table("", doc.get_ref(), &mut spans);
        }
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Locator { spans, line_starts }
    }

    /// Position of a byte offset.
    pub fn position_of(&self, offset: usize) -> Position {
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        Position {
            line: line + 1,
            column: offset - self.line_starts[line] + 1,
        }
    }

    /// Position of `path`, or of its nearest ancestor that is written in
    /// the file (a missing key is reported where its table is).
    pub fn locate(&self, path: &str) -> Option<Position> {
        let mut p = path.to_string();
        loop {
            if let Some(span) = self.spans.get(&p) {
                return Some(self.position_of(span.start));
            }
            let cut = p.rfind(['.', '['])?;
            p.truncate(cut);
        }
    }
}

fn child(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

fn index_table(prefix: &str, table: &DeTable<'_>, out: &mut HashMap<String, Range<usize>>) {
    for (key, value) in table {
        let path = child(prefix, key.get_ref());
        out.entry(path.clone()).or_insert(key.span());
        index_value(&path, value, out);
    }
}

fn index_value(path: &str, value: &Spanned<DeValue<'_>>, out: &mut HashMap<String, Range<usize>>) {
    match value.get_ref() {
        DeValue::Table(t) => index_table(path, t, out),
        DeValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let p = format!("{path}[{i}]");
                out.entry(p.clone()).or_insert(item.span());
                index_value(&p, item, out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_keys_tables_and_array_elements() {
        let text = "[daemon]\ndatabase = \"x\"\n\n[[accounts]]\nname = \"a\"\nmarketplaces = [\"US\", \"XX\"]\n\n[[accounts]]\nname = \"b\"\n";
        let l = Locator::new(text);
        assert_eq!(
            l.locate("daemon.database"),
            Some(Position { line: 2, column: 1 })
        );
        assert_eq!(
            l.locate("accounts[0].name"),
            Some(Position { line: 5, column: 1 })
        );
        assert_eq!(
            l.locate("accounts[0].marketplaces[1]"),
            Some(Position {
                line: 6,
                column: 23
            })
        );
        assert_eq!(l.locate("accounts[1].name").map(|p| p.line), Some(9));
        // A key that is not written falls back to its table.
        assert_eq!(l.locate("daemon.timezone").map(|p| p.line), Some(1));
        assert_eq!(l.locate("nowhere.at.all"), None);
    }
}
