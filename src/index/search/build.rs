//! Query building: the query text (`index::expr`'s grammar) and the
//! request's filters (time range, levels, sources, signatures, hosts) as
//! one tantivy query; field names checked against what the index holds;
//! `--source` globs matched against the indexed paths.

use std::{collections::BTreeSet, ops::Bound, path::Path};

use jiff::Timestamp;
use tantivy::{
    Term,
    query::{
        AllQuery, BooleanQuery, EmptyQuery, Occur, PhrasePrefixQuery, Query, QueryParser,
        RangeQuery, RegexQuery, TermQuery, TermSetQuery,
    },
    schema::{Field, IndexRecordOption},
};

use tantivy::query_grammar::{Delimiter, UserInputAst, UserInputLeaf, UserInputLiteral};

use super::{Searcher, Unmatched};
use crate::index::{
    IndexError,
    expr::{self, Expr, Kind, Leaf, ParseError},
    query::{self, Request, is_everything},
    schema,
};
use crate::model::Level;

impl Searcher {
    /// The query of `request`, filters included (the regex excepted).
    pub fn query(&self, request: &Request) -> Result<Box<dyn Query>, IndexError> {
        let f = *self.fields();
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        if !is_everything(&request.query) {
            clauses.push((Occur::Must, self.parse(&request.query)?));
        }
        if request.since.is_some() || request.until.is_some() {
            let bound = |t: Option<Timestamp>, inclusive: bool| match t {
                None => Bound::Unbounded,
                Some(t) if inclusive => {
                    Bound::Included(Term::from_field_date(f.ts, schema::date(t)))
                }
                Some(t) => Bound::Excluded(Term::from_field_date(f.ts, schema::date(t))),
            };
            clauses.push((
                Occur::Must,
                Box::new(RangeQuery::new(
                    bound(request.since, true),
                    bound(request.until, false),
                )),
            ));
        }
        if let Some(level) = request.min_level {
            clauses.push((
                Occur::Must,
                Box::new(RangeQuery::new(
                    Bound::Included(Term::from_field_u64(
                        f.lvl,
                        schema::level_number(Some(level)),
                    )),
                    Bound::Unbounded,
                )),
            ));
        }
        if !request.signatures.is_empty() {
            let terms = request
                .signatures
                .iter()
                .map(|id| Term::from_field_text(f.signature, &id.to_lowercase()));
            clauses.push((Occur::Must, Box::new(TermSetQuery::new(terms))));
        }
        if !request.hosts.is_empty() {
            let terms = request
                .hosts
                .iter()
                .map(|host| Term::from_field_text(f.host, &host.to_lowercase()));
            clauses.push((Occur::Must, Box::new(TermSetQuery::new(terms))));
        }
        if !request.sources.is_empty() {
            let sources = self.sources_matching(&request.sources)?;
            let query: Box<dyn Query> = if sources.is_empty() {
                Box::new(EmptyQuery)
            } else {
                Box::new(TermSetQuery::new(
                    sources.iter().map(|s| Term::from_field_text(f.source, s)),
                ))
            };
            clauses.push((Occur::Must, query));
        }
        Ok(match clauses.len() {
            0 => Box::new(AllQuery),
            1 => clauses.pop().map(|(_, q)| q).expect("one clause"),
            _ => Box::new(BooleanQuery::new(clauses)),
        })
    }

    pub(super) fn parser(&self) -> QueryParser {
        let f = self.fields();
        let mut parser = QueryParser::for_index(self.store.index(), vec![f.line, f.fields]);
        parser.set_conjunction_by_default();
        parser
    }

    pub(super) fn parse(&self, text: &str) -> Result<Box<dyn Query>, IndexError> {
        // Before any parser, which recurses once per level (as do the query
        // it builds and the search): too deep is a stack overflow.
        let depth = query::nesting(text);
        if depth > query::MAX_QUERY_DEPTH {
            return Err(IndexError::Query(format!(
                "the query nests {depth} levels deep (groups in parentheses and NOTs inside \
                 one another); at most {} are allowed",
                query::MAX_QUERY_DEPTH
            )));
        }
        let parsed = expr::parse(text).map_err(|e| IndexError::Query(e.pointed(text)))?;
        self.build(&parsed, text)
    }

    /// The index query of a parsed query: `AND` as must, `NOT` inside it as
    /// must-not, `OR` as should; a clause of exclusions only excludes from
    /// everything, as people mean it.
    pub(super) fn build(&self, e: &Expr, text: &str) -> Result<Box<dyn Query>, IndexError> {
        Ok(match e {
            Expr::All => Box::new(AllQuery),
            Expr::Leaf(leaf) => self.leaf(leaf, text)?,
            Expr::And(parts) => {
                let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
                for part in parts {
                    match part {
                        Expr::Not(inner) => {
                            clauses.push((Occur::MustNot, self.build(inner, text)?));
                        }
                        other => clauses.push((Occur::Must, self.build(other, text)?)),
                    }
                }
                if clauses.iter().all(|(occur, _)| *occur == Occur::MustNot) {
                    clauses.push((Occur::Must, Box::new(AllQuery)));
                }
                Box::new(BooleanQuery::new(clauses))
            }
            Expr::Or(parts) => Box::new(BooleanQuery::new(
                parts
                    .iter()
                    .map(|part| Ok((Occur::Should, self.build(part, text)?)))
                    .collect::<Result<Vec<_>, IndexError>>()?,
            )),
            Expr::Not(inner) => Box::new(BooleanQuery::new(vec![
                (Occur::Must, Box::new(AllQuery) as Box<dyn Query>),
                (Occur::MustNot, self.build(inner, text)?),
            ])),
        })
    }

    /// The index query of one word, phrase or prefix: `source:` takes what
    /// `--source` takes, `level:` a level name, any other field must be one
    /// this index has.
    pub(super) fn leaf(&self, leaf: &Leaf, text: &str) -> Result<Box<dyn Query>, IndexError> {
        let f = *self.fields();
        let error = |message: String| {
            IndexError::Query(
                ParseError {
                    column: leaf.column,
                    message,
                }
                .pointed(text),
            )
        };
        let prefix = leaf.kind == Kind::Prefix;
        match leaf.field.as_deref() {
            Some("source") => {
                let glob = if prefix {
                    format!("{}*", globset_escape(&leaf.text))
                } else {
                    leaf.text.clone()
                };
                let sources = self
                    .sources_matching(std::slice::from_ref(&glob))
                    .map_err(|e| error(e.to_string()))?;
                return Ok(if sources.is_empty() {
                    Box::new(EmptyQuery)
                } else {
                    Box::new(TermSetQuery::new(
                        sources.iter().map(|s| Term::from_field_text(f.source, s)),
                    ))
                });
            }
            Some("level") => {
                let level = query::parse_level(&leaf.text)
                    .ok()
                    .filter(|_| !prefix)
                    .ok_or_else(|| {
                        error(format!(
                            "`{}` is not a level: one of {}",
                            leaf.text,
                            Level::ALL.map(Level::as_str).join(", ")
                        ))
                    })?;
                return Ok(Box::new(TermQuery::new(
                    Term::from_field_text(f.level, level.as_str()),
                    IndexRecordOption::Basic,
                )));
            }
            Some("line" | "host" | "signature") | None => {}
            Some(name) if self.store.index().schema().get_field(name).is_ok() => {
                return Err(error(format!(
                    "`{name}` cannot be searched in a query ({}); fields: {}",
                    match name {
                        "ts" => "use --since and --until",
                        "lvl" => "use level: or --level",
                        _ => "it is internal",
                    },
                    self.field_names()?.join(", ")
                )));
            }
            Some(name) => {
                if !self.json_path_exists(name)? {
                    return Err(error(format!(
                        "unknown field `{name}`: fields in this index: {}",
                        self.field_names()?.join(", ")
                    )));
                }
            }
        }
        if leaf.kind != Kind::Phrase
            && matches!(leaf.field.as_deref(), None | Some("line"))
            && self.line_tokens(&leaf.text).is_empty()
        {
            return Err(error(format!(
                "`{}` has no letters or digits to search for (quote a phrase, or use -e REGEX)",
                leaf.text
            )));
        }
        if prefix {
            return self.prefix(leaf).map_err(error);
        }
        let literal = UserInputLiteral {
            field_name: leaf.field.clone(),
            phrase: leaf.text.clone(),
            delimiter: if leaf.kind == Kind::Phrase {
                Delimiter::DoubleQuotes
            } else {
                Delimiter::None
            },
            slop: 0,
            prefix: false,
        };
        self.parser()
            .build_query_from_user_input_ast(UserInputAst::Leaf(Box::new(UserInputLeaf::Literal(
                literal,
            ))))
            .map_err(|e| error(e.to_string()))
    }

    /// The line's tokens of `text`, as the index cut them.
    pub(super) fn line_tokens(&self, text: &str) -> Vec<String> {
        let mut tokens = Vec::new();
        if let Some(mut analyzer) = self.store.index().tokenizers().get(schema::WORDS) {
            let mut stream = analyzer.token_stream(text);
            while let Some(token) = stream.next() {
                tokens.push(token.text.clone());
            }
        }
        tokens
    }

    /// `word*`: in the line, a word starting so (the last of several words
    /// of a phrase: `web-1*`); in a field, a value starting so.
    pub(super) fn prefix(&self, leaf: &Leaf) -> Result<Box<dyn Query>, String> {
        let f = *self.fields();
        let starting = |field: Field, before: &str, text: &str| -> Result<Box<dyn Query>, String> {
            let pattern = format!("{}{}.*", regex::escape(before), regex::escape(text));
            RegexQuery::from_pattern(&pattern, field)
                .map(|q| Box::new(q) as Box<dyn Query>)
                .map_err(|e| e.to_string())
        };
        match leaf.field.as_deref() {
            None | Some("line") => {
                let tokens = self.line_tokens(&leaf.text);
                match tokens.as_slice() {
                    [] => Err(format!(
                        "`{}*`: a prefix needs a letter or digit",
                        leaf.text
                    )),
                    [one] => starting(f.line, "", one),
                    _ => Ok(Box::new(PhrasePrefixQuery::new(
                        tokens
                            .iter()
                            .map(|t| Term::from_field_text(f.line, t))
                            .collect(),
                    ))),
                }
            }
            Some("host") => starting(f.host, "", &leaf.text.to_lowercase()),
            Some("signature") => starting(f.signature, "", &leaf.text.to_lowercase()),
            Some(path) => {
                let mut term = Term::from_field_json_path(f.fields, path, true);
                term.append_type_and_str("");
                let before = String::from_utf8_lossy(term.serialized_value_bytes()).into_owned();
                starting(f.fields, &before, &leaf.text.to_lowercase())
            }
        }
    }

    /// Whether some event has the parsed field `path`.
    pub(super) fn json_path_exists(&self, path: &str) -> Result<bool, IndexError> {
        let f = *self.fields();
        let start = Term::from_field_json_path(f.fields, path, true);
        // Keys of a JSON field are the path, a 0 byte (which the term
        // already ends with), the type and value.
        let from = start.serialized_value_bytes().to_vec();
        let mut to = from.clone();
        to.pop();
        to.push(1);
        let searcher = self.reader.searcher();
        for segment in searcher.segment_readers() {
            let found = self.in_segment(segment, || {
                let inverted = segment.inverted_index(f.fields)?;
                let mut stream = inverted.terms().range().ge(&from).lt(&to).into_stream()?;
                Ok(stream.advance())
            })?;
            if found {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The fields a query may name: the event's own and the parsed fields
    /// this index holds (at most 60 of those listed).
    pub(super) fn field_names(&self) -> Result<Vec<String>, IndexError> {
        let f = *self.fields();
        let mut paths = BTreeSet::new();
        let searcher = self.reader.searcher();
        for segment in searcher.segment_readers() {
            self.in_segment(segment, || {
                let inverted = segment.inverted_index(f.fields)?;
                let mut from: Vec<u8> = Vec::new();
                while paths.len() < 60 {
                    let mut stream = inverted.terms().range().ge(&from).into_stream()?;
                    if !stream.advance() {
                        break;
                    }
                    let key = stream.key();
                    let end = key.iter().position(|b| *b == 0).unwrap_or(key.len());
                    let path = &key[..end];
                    paths.insert(String::from_utf8_lossy(path).replace('\u{1}', "."));
                    from = path.to_vec();
                    from.push(1);
                }
                Ok(())
            })?;
        }
        let mut names: Vec<String> = ["line", "level", "source", "host", "signature"]
            .map(str::to_owned)
            .to_vec();
        paths.retain(|p| !names.contains(p));
        names.extend(paths);
        Ok(names)
    }

    /// The `--source` globs of `globs` that match no indexed file, with
    /// every indexed file (for saying which exist), when some glob matches
    /// none.
    pub fn sources_unmatched(&self, globs: &[String]) -> Result<Option<Unmatched>, IndexError> {
        let mut unmatched = Vec::new();
        for glob in globs {
            if self
                .sources_matching(std::slice::from_ref(glob))?
                .is_empty()
            {
                unmatched.push(glob.clone());
            }
        }
        if unmatched.is_empty() {
            return Ok(None);
        }
        Ok(Some(Unmatched {
            globs: unmatched,
            indexed: self.sources_matching(&["**".to_owned()])?,
        }))
    }

    /// Every indexed source path some glob matches (a glob without `/`
    /// also matches the file name alone).
    pub(super) fn sources_matching(
        &self,
        globs: &[String],
    ) -> Result<BTreeSet<String>, IndexError> {
        let matchers = globs
            .iter()
            .map(|g| {
                globset::Glob::new(g)
                    .map(|g| g.compile_matcher())
                    .map_err(|e| IndexError::Query(format!("--source `{g}`: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let f = self.fields();
        let mut found = BTreeSet::new();
        let searcher = self.reader.searcher();
        for segment in searcher.segment_readers() {
            self.in_segment(segment, || {
                let inverted = segment.inverted_index(f.source)?;
                let mut stream = inverted.terms().stream()?;
                while stream.advance() {
                    let Ok(path) = std::str::from_utf8(stream.key()) else {
                        continue;
                    };
                    let name = Path::new(path).file_name().map(Path::new);
                    if matchers.iter().zip(globs).any(|(m, g)| {
                        m.is_match(path)
                            || (!g.contains('/') && name.is_some_and(|n| m.is_match(n)))
                    }) {
                        found.insert(path.to_owned());
                    }
                }
                Ok(())
            })?;
        }
        Ok(found)
    }
}

/// `text` with the glob's special characters escaped.
pub(super) fn globset_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '{' | '}' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
