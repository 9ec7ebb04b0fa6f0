//! The search query language, parsed: text → [`Expr`], or an error naming
//! the column where the parser stopped.
//!
//! Pure: no tantivy, no I/O. `search` turns an [`Expr`] into an index query
//! (the one place the meaning of a leaf against the index is decided); this
//! module decides only the structure, so how words, `AND`, `OR`, `NOT`,
//! groups and fields combine is the same whatever the index.
//!
//! Grammar (operators in capitals; lowercase `and`/`or`/`not` are words):
//!
//! ```text
//! query  := or
//! or     := and ("OR" and)*
//! and    := unary (["AND"] unary)*       plain words side by side are ANDed
//! unary  := "NOT" unary | "-" atom | "+" atom | atom
//! atom   := "(" or ")" | NAME ":" value | value | "*"
//! value  := WORD | WORD"*" (prefix) | "phrase" | 'phrase' | "(" or ")"
//! ```
//!
//! So `NOT` binds tightest, then `AND` (written or not), then `OR`:
//! `a b OR c` is `(a AND b) OR c`, `Failed password AND root` is three
//! words ANDed. Invariant: a text either parses to an [`Expr`] or is an
//! error; it is never read as something other than written.

use std::fmt;

/// A parsed query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// Everything (`*`).
    All,
    /// A word, phrase or prefix, in a field or the default ones.
    Leaf(Leaf),
    /// All of these.
    And(Vec<Expr>),
    /// Any of these.
    Or(Vec<Expr>),
    /// Not this.
    Not(Box<Expr>),
}

/// One term of a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leaf {
    /// The field it searches (`host` of `host:web-1`); `None`: the line
    /// and the parsed fields.
    pub field: Option<String>,
    /// The text, unescaped.
    pub text: String,
    /// How it was written.
    pub kind: Kind,
    /// Column (1-based, in characters) where it starts in the query.
    pub column: usize,
}

/// How a leaf was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A bare word.
    Word,
    /// `"..."` or `'...'`: the words in this order.
    Phrase,
    /// `word*`: any word starting so.
    Prefix,
}

/// A query the parser cannot take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Column (1-based, in characters) where the problem is.
    pub column: usize,
    /// What is wrong there.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "column {}: {}", self.column, self.message)
    }
}

impl std::error::Error for ParseError {}

impl ParseError {
    /// The error with the query on a line below and a caret under the
    /// column, for people.
    pub fn pointed(&self, query: &str) -> String {
        let caret = " ".repeat(self.column.saturating_sub(1));
        format!(
            "query:1:{}: {}\n  {query}\n  {caret}^",
            self.column, self.message
        )
    }
}

/// A token of the query text.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Open,
    Close,
    And,
    Or,
    Not,
    /// `-` before an atom.
    Minus,
    /// `+` before an atom.
    Plus,
    /// `name:` before a value.
    Field(String),
    /// `*` alone.
    Star,
    Word {
        text: String,
        prefix: bool,
    },
    Phrase(String),
}

fn is_field_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '@')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '@'))
}

/// Splits the text into tokens with their 1-based columns.
fn lex(text: &str) -> Result<Vec<(Tok, usize)>, ParseError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let column = i + 1;
        let term_start =
            i == 0 || chars[i - 1].is_whitespace() || matches!(chars[i - 1], '(' | ':' | '-' | '+');
        if c.is_whitespace() {
            i += 1;
        } else if c == '(' {
            out.push((Tok::Open, column));
            i += 1;
        } else if c == ')' {
            out.push((Tok::Close, column));
            i += 1;
        } else if (c == '-' || c == '+')
            && term_start
            && chars
                .get(i + 1)
                .is_some_and(|n| !n.is_whitespace() && *n != ')')
        {
            out.push((if c == '-' { Tok::Minus } else { Tok::Plus }, column));
            i += 1;
        } else if (c == '"' || c == '\'') && term_start {
            let mut phrase = String::new();
            let mut j = i + 1;
            loop {
                match chars.get(j) {
                    None => {
                        return Err(ParseError {
                            column,
                            message: format!("this {c} is never closed"),
                        });
                    }
                    Some('\\') if j + 1 < chars.len() => {
                        phrase.push(chars[j + 1]);
                        j += 2;
                    }
                    Some(q) if *q == c => break,
                    Some(other) => {
                        phrase.push(*other);
                        j += 1;
                    }
                }
            }
            out.push((Tok::Phrase(phrase), column));
            i = j + 1;
        } else {
            // A word: up to whitespace or an unescaped parenthesis; a
            // `name:` at its start is a field.
            let mut word = String::new();
            let mut escaped_last = false;
            let mut j = i;
            let mut field = None;
            while j < chars.len() {
                let d = chars[j];
                if d.is_whitespace() || d == '(' || d == ')' {
                    break;
                }
                if d == '\\' && j + 1 < chars.len() {
                    word.push(chars[j + 1]);
                    escaped_last = true;
                    j += 2;
                    continue;
                }
                if d == ':' && field.is_none() && !escaped_last && is_field_name(&word) {
                    field = Some(std::mem::take(&mut word));
                    j += 1;
                    break;
                }
                escaped_last = false;
                word.push(d);
                j += 1;
            }
            if let Some(name) = field {
                out.push((Tok::Field(name), column));
                i = j;
                if chars.get(i).is_none_or(|n| n.is_whitespace() || *n == ')') {
                    return Err(ParseError {
                        column: i + 1,
                        message:
                            "a field needs a value after its `:` (quote it if it holds spaces)"
                                .to_owned(),
                    });
                }
                continue;
            }
            let tok = match word.as_str() {
                "AND" | "&&" => Tok::And,
                "OR" | "||" => Tok::Or,
                "NOT" => Tok::Not,
                "*" if !escaped_last => Tok::Star,
                _ => {
                    let prefix = word.ends_with('*') && !escaped_last && word.len() > 1;
                    if prefix {
                        word.pop();
                    }
                    if let Some(k) = word.find('*').filter(|_| !escaped_last || prefix) {
                        return Err(ParseError {
                            column: column + word[..k].chars().count(),
                            message: "`*` works only at the end of a word (a prefix); escape it \
                                      as \\* to search for it"
                                .to_owned(),
                        });
                    }
                    Tok::Word { text: word, prefix }
                }
            };
            out.push((tok, column));
            i = j;
        }
    }
    Ok(out)
}

/// Parses a query; an empty query or `*` is [`Expr::All`].
pub fn parse(text: &str) -> Result<Expr, ParseError> {
    let tokens = lex(text)?;
    let end = text.chars().count() + 1;
    let mut parser = Parser {
        tokens,
        at: 0,
        end,
        depth: 0,
    };
    if parser.tokens.is_empty() {
        return Ok(Expr::All);
    }
    let expr = parser.or(None)?;
    match parser.tokens.get(parser.at) {
        None => Ok(expr),
        Some((Tok::Close, column)) => Err(ParseError {
            column: *column,
            message: "this `)` closes no `(`".to_owned(),
        }),
        Some((_, column)) => Err(ParseError {
            column: *column,
            message: "unexpected here".to_owned(),
        }),
    }
}

/// Deepest nesting taken (groups and `NOT`s), before recursion gets deep:
/// the index's search recurses once per level too.
pub const MAX_DEPTH: usize = 100;

struct Parser {
    tokens: Vec<(Tok, usize)>,
    at: usize,
    end: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.at).map(|(t, _)| t)
    }

    fn column(&self) -> usize {
        self.tokens.get(self.at).map_or(self.end, |(_, c)| *c)
    }

    fn deeper(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ParseError {
                column: self.column(),
                message: format!(
                    "the query nests more than {MAX_DEPTH} levels deep (groups in parentheses \
                     and NOTs inside one another)"
                ),
            });
        }
        Ok(())
    }

    fn or(&mut self, field: Option<&str>) -> Result<Expr, ParseError> {
        let mut parts = vec![self.and(field)?];
        while self.peek() == Some(&Tok::Or) {
            self.at += 1;
            parts.push(self.and(field)?);
        }
        Ok(if parts.len() == 1 {
            parts.pop().unwrap_or(Expr::All)
        } else {
            Expr::Or(parts)
        })
    }

    fn and(&mut self, field: Option<&str>) -> Result<Expr, ParseError> {
        let mut parts = vec![self.unary(field)?];
        loop {
            match self.peek() {
                Some(Tok::And) => {
                    self.at += 1;
                    parts.push(self.unary(field)?);
                }
                None | Some(Tok::Or | Tok::Close) => break,
                Some(_) => parts.push(self.unary(field)?),
            }
        }
        Ok(if parts.len() == 1 {
            parts.pop().unwrap_or(Expr::All)
        } else {
            Expr::And(parts)
        })
    }

    fn unary(&mut self, field: Option<&str>) -> Result<Expr, ParseError> {
        match self.peek() {
            Some(Tok::Not) => {
                self.at += 1;
                self.deeper()?;
                let inner = self.unary(field)?;
                self.depth -= 1;
                Ok(Expr::Not(Box::new(inner)))
            }
            Some(Tok::Minus) => {
                self.at += 1;
                Ok(Expr::Not(Box::new(self.atom(field)?)))
            }
            Some(Tok::Plus) => {
                self.at += 1;
                self.atom(field)
            }
            _ => self.atom(field),
        }
    }

    fn atom(&mut self, field: Option<&str>) -> Result<Expr, ParseError> {
        let column = self.column();
        let Some((tok, _)) = self.tokens.get(self.at).cloned() else {
            return Err(ParseError {
                column,
                message: "the query ends where a word, phrase or group was expected".to_owned(),
            });
        };
        self.at += 1;
        match tok {
            Tok::Open => {
                if self.peek() == Some(&Tok::Close) {
                    return Err(ParseError {
                        column,
                        message: "an empty group `()`".to_owned(),
                    });
                }
                self.deeper()?;
                let inner = self.or(field)?;
                self.depth -= 1;
                if self.peek() != Some(&Tok::Close) {
                    return Err(ParseError {
                        column,
                        message: "this `(` is never closed".to_owned(),
                    });
                }
                self.at += 1;
                Ok(inner)
            }
            Tok::Field(name) => {
                if field.is_some() {
                    return Err(ParseError {
                        column,
                        message: format!("a field (`{name}:`) inside another field's group"),
                    });
                }
                match self.peek() {
                    Some(Tok::Open | Tok::Word { .. } | Tok::Phrase(_) | Tok::Star) => {}
                    _ => {
                        return Err(ParseError {
                            column: self.column(),
                            message: format!("`{name}:` needs a value: a word, phrase or group"),
                        });
                    }
                }
                if self.peek() == Some(&Tok::Star) {
                    return Err(ParseError {
                        column: self.column(),
                        message: format!("`{name}:*`: a prefix needs at least one character"),
                    });
                }
                self.atom(Some(&name))
            }
            Tok::Star => Ok(Expr::All),
            Tok::Word { text, prefix } => Ok(Expr::Leaf(Leaf {
                field: field.map(str::to_owned),
                text,
                kind: if prefix { Kind::Prefix } else { Kind::Word },
                column,
            })),
            Tok::Phrase(text) => Ok(Expr::Leaf(Leaf {
                field: field.map(str::to_owned),
                text,
                kind: Kind::Phrase,
                column,
            })),
            Tok::Close => Err(ParseError {
                column,
                message: "this `)` closes no `(`".to_owned(),
            }),
            Tok::And | Tok::Or => Err(ParseError {
                column,
                message: format!(
                    "`{}` needs a word, phrase or group on each side (write it in lowercase, \
                     or quote it, to search for the word)",
                    if tok == Tok::And { "AND" } else { "OR" }
                ),
            }),
            Tok::Not | Tok::Minus | Tok::Plus => Err(ParseError {
                column,
                message: "unexpected here".to_owned(),
            }),
        }
    }
}

impl Expr {
    /// Every leaf, in the order written.
    pub fn leaves(&self) -> Vec<&Leaf> {
        let mut out = Vec::new();
        self.collect(&mut out);
        out
    }

    fn collect<'a>(&'a self, out: &mut Vec<&'a Leaf>) {
        match self {
            Expr::All => {}
            Expr::Leaf(leaf) => out.push(leaf),
            Expr::And(parts) | Expr::Or(parts) => parts.iter().for_each(|p| p.collect(out)),
            Expr::Not(inner) => inner.collect(out),
        }
    }

    /// Leaves under a `NOT` are not hits: the leaves that can be.
    pub fn positive_leaves(&self) -> Vec<&Leaf> {
        let mut out = Vec::new();
        self.collect_positive(&mut out);
        out
    }

    fn collect_positive<'a>(&'a self, out: &mut Vec<&'a Leaf>) {
        match self {
            Expr::All | Expr::Not(_) => {}
            Expr::Leaf(leaf) => out.push(leaf),
            Expr::And(parts) | Expr::Or(parts) => {
                parts.iter().for_each(|p| p.collect_positive(out));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(text: &str) -> Expr {
        Expr::Leaf(Leaf {
            field: None,
            text: text.to_owned(),
            kind: Kind::Word,
            column: 0,
        })
    }

    /// The parse with columns zeroed, for comparing shapes.
    fn shape(text: &str) -> Expr {
        fn zero(e: Expr) -> Expr {
            match e {
                Expr::Leaf(mut l) => {
                    l.column = 0;
                    Expr::Leaf(l)
                }
                Expr::And(p) => Expr::And(p.into_iter().map(zero).collect()),
                Expr::Or(p) => Expr::Or(p.into_iter().map(zero).collect()),
                Expr::Not(i) => Expr::Not(Box::new(zero(*i))),
                Expr::All => Expr::All,
            }
        }
        zero(parse(text).unwrap_or_else(|e| panic!("{text}: {e}")))
    }

    #[test]
    fn plain_words_and_explicit_and_are_one_conjunction() {
        let three = Expr::And(vec![w("Failed"), w("password"), w("root")]);
        assert_eq!(shape("Failed password AND root"), three);
        assert_eq!(shape("Failed AND password AND root"), three);
        assert_eq!(shape("Failed password root"), three);
    }

    #[test]
    fn not_binds_tightest_then_and_then_or() {
        assert_eq!(
            shape("a b OR c"),
            Expr::Or(vec![Expr::And(vec![w("a"), w("b")]), w("c")])
        );
        assert_eq!(
            shape("a OR b c"),
            Expr::Or(vec![w("a"), Expr::And(vec![w("b"), w("c")])])
        );
        assert_eq!(
            shape("NOT a b"),
            Expr::And(vec![Expr::Not(Box::new(w("a"))), w("b")])
        );
        assert_eq!(
            shape("a -b"),
            Expr::And(vec![w("a"), Expr::Not(Box::new(w("b")))])
        );
        assert_eq!(
            shape("(a OR b) c"),
            Expr::And(vec![Expr::Or(vec![w("a"), w("b")]), w("c")])
        );
    }

    #[test]
    fn fields_prefixes_phrases_and_escapes() {
        let Expr::Leaf(leaf) = shape("host:web-1") else {
            panic!("a leaf")
        };
        assert_eq!(
            (leaf.field.as_deref(), leaf.text.as_str()),
            (Some("host"), "web-1")
        );
        let Expr::Leaf(leaf) = shape("fail*") else {
            panic!("a leaf")
        };
        assert_eq!((leaf.text.as_str(), leaf.kind), ("fail", Kind::Prefix));
        let Expr::Leaf(leaf) = shape("\"connection refused\"") else {
            panic!("a leaf")
        };
        assert_eq!(leaf.kind, Kind::Phrase);
        let Expr::Leaf(leaf) = shape(r"a\:b") else {
            panic!("a leaf")
        };
        assert_eq!((leaf.field, leaf.text.as_str()), (None, "a:b"));
        assert_eq!(shape("03:00:12"), w("03:00:12"));
        assert_eq!(shape("*"), Expr::All);
        assert_eq!(shape(""), Expr::All);
        assert_eq!(
            shape("level:(error OR warn)"),
            Expr::Or(vec![
                Expr::Leaf(Leaf {
                    field: Some("level".into()),
                    text: "error".into(),
                    kind: Kind::Word,
                    column: 0
                }),
                Expr::Leaf(Leaf {
                    field: Some("level".into()),
                    text: "warn".into(),
                    kind: Kind::Word,
                    column: 0
                }),
            ])
        );
    }

    #[test]
    fn errors_name_the_column() {
        let cases = [
            ("a AND", 6),
            ("OR b", 1),
            ("(a b", 1),
            ("a b)", 4),
            ("\"open", 1),
            ("host:", 6),
            ("a ()", 3),
            ("NOT", 4),
            ("f*il", 2),
            ("a AND OR b", 7),
        ];
        for (query, column) in cases {
            let err = parse(query).expect_err(query);
            assert_eq!(err.column, column, "{query}: {err}");
        }
        let deep = "(".repeat(200) + "a" + &")".repeat(200);
        assert!(parse(&deep).is_err());
    }
}
