//! A checked walk over a parsed TOML document that keeps every value's place
//! in the file.
//!
//! Files a team writes are read by hand rather than through `serde` so that
//! *every* problem in a file is reported, each at its own `line:col`: unknown
//! keys, missing keys and values of the wrong type. Getters push a
//! [`Diagnostic`] and return `None` on a problem; callers carry on and collect
//! the rest.

use std::{ops::Range, sync::Arc};

use toml::{
    Spanned,
    de::{DeTable, DeValue},
};

use crate::diag::{Diagnostic, Loc, SourceText};

/// Parses a TOML file, reporting every syntax error found.
pub fn parse<'i>(
    source: &Arc<SourceText>,
    text: &'i str,
    diags: &mut Vec<Diagnostic>,
) -> Option<Spanned<DeTable<'i>>> {
    let (doc, errors) = DeTable::parse_recoverable(text);
    for error in &errors {
        let span = error.span().unwrap_or(0..0);
        diags.push(Loc::new(source, span).error(format!("TOML syntax: {}", error.message())));
    }
    errors.is_empty().then_some(doc)
}

/// A table in a file, with its span and a description for messages.
pub struct Table<'a, 'i> {
    source: &'a Arc<SourceText>,
    table: &'a DeTable<'i>,
    span: Range<usize>,
}

/// One value in a file, with its key for messages.
pub struct Field<'a, 'i> {
    /// The key the value was found under.
    pub key: &'a str,
    /// Where the value is.
    pub loc: Loc,
    value: &'a DeValue<'i>,
    source: &'a Arc<SourceText>,
}

impl<'a, 'i> Table<'a, 'i> {
    /// The document's top-level table.
    pub fn root(source: &'a Arc<SourceText>, doc: &'a Spanned<DeTable<'i>>) -> Self {
        Table {
            source,
            table: doc.get_ref(),
            span: doc.span(),
        }
    }

    /// Where the table is (its header, for `[[array.of.tables]]`).
    pub fn loc(&self) -> Loc {
        let start = self.span.start;
        let text = &self.source.text;
        let end = text[start.min(text.len())..]
            .find('\n')
            .map_or(text.len(), |i| start + i);
        Loc::new(self.source, start..end)
    }

    /// Reports each key not in `allowed`.
    pub fn check_keys(&self, allowed: &[&str], what: &str, diags: &mut Vec<Diagnostic>) {
        for key in self.table.keys() {
            if !allowed.contains(&key.get_ref().as_ref()) {
                diags.push(Loc::new(self.source, key.span()).error(format!(
                    "unknown key `{}` in {what}; expected one of: {}",
                    key.get_ref(),
                    allowed.join(", ")
                )));
            }
        }
    }

    /// The value under `key`, if present.
    pub fn field(&self, key: &'a str) -> Option<Field<'a, 'i>> {
        let value = self.table.get(key)?;
        Some(Field {
            key,
            loc: Loc::new(self.source, value.span()),
            value: value.get_ref(),
            source: self.source,
        })
    }

    /// The value under `key`, reporting its absence.
    pub fn required(
        &self,
        key: &'a str,
        what: &str,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<Field<'a, 'i>> {
        let field = self.field(key);
        if field.is_none() {
            diags.push(self.loc().error(format!("missing key `{key}` in {what}")));
        }
        field
    }

    /// Each `(key, value)` of the table in file order.
    pub fn entries(&self) -> impl Iterator<Item = (Loc, Field<'a, 'i>)> + '_ {
        self.table.iter().map(|(key, value)| {
            let key_loc = Loc::new(self.source, key.span());
            let field = Field {
                key: key.get_ref().as_ref(),
                loc: Loc::new(self.source, value.span()),
                value: value.get_ref(),
                source: self.source,
            };
            (key_loc, field)
        })
    }

    /// Whether the table has a key.
    pub fn has(&self, key: &str) -> bool {
        self.table.contains_key(key)
    }
}

impl<'a, 'i> Field<'a, 'i> {
    fn wrong_type(&self, expected: &str, diags: &mut Vec<Diagnostic>) {
        diags.push(self.loc.error(format!(
            "`{}` must be {expected}, not {}",
            self.key,
            self.value.type_str()
        )));
    }

    /// The value as a string, without reporting anything when it is not.
    pub fn value_str(&self) -> Option<&'a str> {
        self.value.as_str()
    }

    /// The value as a string.
    pub fn str(&self, diags: &mut Vec<Diagnostic>) -> Option<&'a str> {
        let value = self.value.as_str();
        if value.is_none() {
            self.wrong_type("a string", diags);
        }
        value
    }

    /// The value as a boolean.
    pub fn bool(&self, diags: &mut Vec<Diagnostic>) -> Option<bool> {
        let value = self.value.as_bool();
        if value.is_none() {
            self.wrong_type("true or false", diags);
        }
        value
    }

    /// The value as a non-negative integer.
    pub fn u64(&self, diags: &mut Vec<Diagnostic>) -> Option<u64> {
        let value = self
            .value
            .as_integer()
            .and_then(|int| u64::from_str_radix(&int.as_str().replace('_', ""), int.radix()).ok());
        if value.is_none() {
            self.wrong_type("a non-negative integer", diags);
        }
        value
    }

    /// The value as an array of strings, each with its location.
    pub fn strings(&self, diags: &mut Vec<Diagnostic>) -> Option<Vec<(String, Loc)>> {
        let Some(array) = self.value.as_array() else {
            self.wrong_type("an array of strings", diags);
            return None;
        };
        let mut out = Vec::with_capacity(array.len());
        for item in array {
            let loc = Loc::new(self.source, item.span());
            match item.get_ref().as_str() {
                Some(s) => out.push((s.to_owned(), loc)),
                None => diags.push(loc.error(format!(
                    "`{}` must be an array of strings, but holds {}",
                    self.key,
                    item.get_ref().type_str()
                ))),
            }
        }
        Some(out)
    }

    /// Whether the value is a table.
    pub fn is_table(&self) -> bool {
        self.value.as_table().is_some()
    }

    /// The value as a table.
    pub fn table(&self, diags: &mut Vec<Diagnostic>) -> Option<Table<'a, 'i>> {
        let Some(table) = self.value.as_table() else {
            self.wrong_type("a table", diags);
            return None;
        };
        Some(Table {
            source: self.source,
            table,
            span: self.loc.span.clone(),
        })
    }

    /// The value as an array of tables (`[[key]]`).
    pub fn tables(&self, diags: &mut Vec<Diagnostic>) -> Vec<Table<'a, 'i>> {
        let Some(array) = self.value.as_array() else {
            self.wrong_type("an array of tables", diags);
            return Vec::new();
        };
        let mut out = Vec::with_capacity(array.len());
        for item in array {
            match item.get_ref().as_table() {
                Some(table) => out.push(Table {
                    source: self.source,
                    table,
                    span: item.span(),
                }),
                None => diags.push(Loc::new(self.source, item.span()).error(format!(
                    "`{}` must hold tables, but holds {}",
                    self.key,
                    item.get_ref().type_str()
                ))),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk(text: &str, f: impl FnOnce(Table<'_, '_>, &mut Vec<Diagnostic>)) -> Vec<String> {
        let source = SourceText::new("t.toml", text);
        let mut diags = Vec::new();
        if let Some(doc) = parse(&source, &source.text, &mut diags) {
            f(Table::root(&source, &doc), &mut diags);
        }
        diags
            .iter()
            .map(|d| d.to_string().lines().next().unwrap_or("").to_owned())
            .collect()
    }

    #[test]
    fn reports_unknown_missing_and_mistyped_keys_together() {
        let out = walk("[[item]]\nname = 3\ncolour = 'red'\n", |root, diags| {
            for item in root
                .field("item")
                .map(|f| f.tables(diags))
                .unwrap_or_default()
            {
                item.check_keys(&["name", "size"], "item", diags);
                item.required("size", "item", diags);
                item.field("name").and_then(|f| f.str(diags));
            }
        });
        assert_eq!(
            out,
            [
                "t.toml:3:1: unknown key `colour` in item; expected one of: name, size",
                "t.toml:1:1: missing key `size` in item",
                "t.toml:2:8: `name` must be a string, not integer",
            ]
        );
    }

    #[test]
    fn reports_syntax_errors_with_position() {
        let out = walk("a = 1\nb = = 2\n", |_, _| {});
        assert!(!out.is_empty());
        assert!(out[0].starts_with("t.toml:2:5: TOML syntax"), "{out:?}");
        assert!(out[0].contains("TOML syntax"), "{out:?}");
    }
}
