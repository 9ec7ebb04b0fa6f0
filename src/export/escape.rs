//! Escaping for each export format, so that text from logs (and from people)
//! can never change a document's structure or run anything.
//!
//! Pure string functions. Every function first makes control characters,
//! escape sequences and bidi overrides visible (`\x1b`), as the terminal
//! output does, so nothing invisible survives into a document.
//!
//! - Markdown prose: ASCII punctuation that can start markup is
//!   backslash-escaped, so no emphasis, link, image, raw HTML, heading,
//!   table cell break (`|`), math (`$`) or mention (`@`) can form.
//! - Markdown code: inline spans and fenced blocks use a backtick fence one
//!   longer than the longest run of backticks in the text, so the text cannot
//!   close them.
//! - HTML: `& < > " '` become entities, everywhere (text and attributes).
//! - CSV: RFC 4180 quoting, and a cell whose first non-blank character is
//!   `=`, `+`, `-`, `@` (or their full-width forms), a tab or a CR is prefixed
//!   with `'` so no spreadsheet reads it as a formula.

use crate::sanitize::for_terminal;

/// Characters escaped in Markdown prose.
const MARKDOWN_PUNCTUATION: &[char] = &[
    '\\', '`', '*', '_', '[', ']', '<', '>', '|', '~', '&', '$', '@', '#', '!', '{', '}',
];

/// Text on one line: control characters visible, nothing interpreted.
fn one_line(text: &str) -> String {
    for_terminal(text).into_owned()
}

/// Text of several lines (a multi-line event): each line as [`one_line`]
/// makes it, the line ends kept as `\n`.
fn lines_of(text: &str) -> String {
    text.split('\n')
        .map(|line| one_line(line.trim_end_matches('\r')))
        .collect::<Vec<_>>()
        .join("\n")
}

/// HTML text of several lines, for a `<pre>`: as [`html`], each line on
/// its own.
pub fn html_lines(text: &str) -> String {
    text.split('\n')
        .map(|line| html(line.trim_end_matches('\r')))
        .collect::<Vec<_>>()
        .join("\n")
}

/// An HTML attribute value of several lines (a tooltip): as
/// [`html_lines`], the line breaks written `&#10;`.
pub fn html_attr_lines(text: &str) -> String {
    html_lines(text).replace('\n', "&#10;")
}

/// Markdown prose (a table cell, a list item, a heading).
pub fn md_text(text: &str) -> String {
    let text = one_line(text);
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if MARKDOWN_PUNCTUATION.contains(&c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn longest_backtick_run(text: &str) -> usize {
    let (mut longest, mut run) = (0, 0);
    for c in text.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    longest
}

/// An inline code span. In a table cell `|` must be written `\|` even
/// inside code (GitHub's tables split cells before reading code spans);
/// set `in_table` there.
pub fn md_code(text: &str, in_table: bool) -> String {
    let mut text = one_line(text);
    if in_table {
        text = text.replace('|', "\\|");
    }
    let fence = "`".repeat(longest_backtick_run(&text) + 1);
    // A space on each side when the text starts or ends with a backtick (or
    // a space, which would otherwise be stripped).
    let pad = if text.starts_with(['`', ' ']) || text.ends_with(['`', ' ']) {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

/// A fenced code block holding `lines`, with an info string.
pub fn md_fence(lines: &[&str], info: &str) -> String {
    let lines: Vec<String> = lines.iter().map(|l| one_line(l)).collect();
    let longest = lines
        .iter()
        .map(|l| longest_backtick_run(l))
        .max()
        .unwrap_or(0);
    let fence = "`".repeat((longest + 1).max(3));
    let mut out = format!("{fence}{info}\n");
    for line in lines {
        out.push_str(&line);
        out.push('\n');
    }
    out.push_str(&fence);
    out.push('\n');
    out
}

/// HTML text or attribute value.
pub fn html(text: &str) -> String {
    let text = one_line(text);
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Whether a spreadsheet would read a cell starting like this as a formula.
fn formula_like(text: &str) -> bool {
    matches!(
        text.trim_start_matches(' ').chars().next(),
        Some('=' | '+' | '-' | '@' | '\t' | '\r' | '＝' | '＋' | '－' | '＠')
    )
}

/// One CSV cell.
pub fn csv_cell(text: &str) -> String {
    csv_cell_of(one_line(text), text)
}

/// One CSV cell holding a multi-line event: its lines kept, in a quoted
/// cell (RFC 4180), each escaped as [`csv_cell`] escapes one.
pub fn csv_lines_cell(text: &str) -> String {
    csv_cell_of(lines_of(text), text)
}

fn csv_cell_of(mut cell: String, text: &str) -> String {
    if formula_like(&cell) || formula_like(text) {
        cell.insert(0, '\'');
    }
    if cell.contains([',', '"', '\n', '\r']) || cell.starts_with(' ') || cell.ends_with(' ') {
        format!("\"{}\"", cell.replace('"', "\"\""))
    } else {
        cell
    }
}

/// One CSV record (CRLF-terminated, as RFC 4180 says).
pub fn csv_row<S: AsRef<str>>(cells: &[S]) -> String {
    csv_row_with_lines(cells, None)
}

/// [`csv_row`] whose cell `lines` (a log event) keeps its lines.
pub fn csv_row_with_lines<S: AsRef<str>>(cells: &[S], lines: Option<usize>) -> String {
    let mut row = cells
        .iter()
        .enumerate()
        .map(|(i, c)| match Some(i) == lines {
            true => csv_lines_cell(c.as_ref()),
            false => csv_cell(c.as_ref()),
        })
        .collect::<Vec<_>>()
        .join(",");
    row.push_str("\r\n");
    row
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Hostile log lines, each trying another way out.
    pub(crate) const HOSTILE: &[&str] = &[
        "**bold** _em_ [link](http://evil.example) ![img](x.png) <b>raw</b>",
        "<script>alert('xss')</script><img src=x onerror=alert(1)>",
        "```\n# injected heading\n```",
        "| injected | cells |\n|---|---|",
        "line one\nline two\r\n# heading",
        "=HYPERLINK(\"http://evil.example\",\"click\")",
        "+1+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(A1:A9)",
        "\t=1+1",
        "\r=1+1",
        "\u{1b}]0;owned\u{7}\u{1b}[2J",
        "$x^2$ and @alice and &amp; and ~~strike~~",
    ];

    #[test]
    fn markdown_prose_escapes_every_markup_character() {
        assert_eq!(
            md_text("a *b* [c](d) <e> |f| `g`"),
            "a \\*b\\* \\[c\\](d) \\<e\\> \\|f\\| \\`g\\`"
        );
        for line in HOSTILE {
            let out = md_text(line);
            assert!(!out.contains('\n') && !out.contains('\r'), "{out}");
            assert!(!out.contains('\u{1b}'), "{out}");
            // Every markup character is preceded by a backslash.
            let chars: Vec<char> = out.chars().collect();
            for (i, c) in chars.iter().enumerate() {
                if MARKDOWN_PUNCTUATION.contains(c) && *c != '\\' {
                    assert_eq!(chars.get(i.wrapping_sub(1)), Some(&'\\'), "{out}");
                }
            }
        }
    }

    #[test]
    fn code_spans_and_fences_cannot_be_closed_from_inside() {
        assert_eq!(md_code("plain", false), "`plain`");
        assert_eq!(md_code("a ` b", false), "``a ` b``");
        assert_eq!(md_code("`x`", false), "`` `x` ``");
        assert_eq!(md_code("a|b", true), "`a\\|b`");
        let fence = md_fence(&["before ```` after", "```"], "text");
        assert!(fence.starts_with("`````text\n"), "{fence}");
        assert!(fence.ends_with("\n`````\n"), "{fence}");
        let fence = md_fence(&["one\ntwo"], "");
        assert_eq!(
            fence.lines().count(),
            3,
            "a newline stays inside its line: {fence}"
        );
    }

    #[test]
    fn an_attribute_of_several_lines_keeps_them_as_character_references() {
        assert_eq!(
            html_attr_lines("a <b>\n\tat \"c\"\u{1b}"),
            "a &lt;b&gt;&#10;\tat &quot;c&quot;\\x1b"
        );
    }

    #[test]
    fn html_escapes_tags_quotes_and_entities() {
        assert_eq!(
            html("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
        for line in HOSTILE {
            let out = html(line);
            assert!(
                !out.contains(['<', '>', '"', '\'', '\n', '\u{1b}']),
                "{out}"
            );
        }
    }

    #[test]
    fn csv_cells_are_quoted_and_never_formulas() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("=1+1"), "'=1+1");
        assert_eq!(csv_cell("+1"), "'+1");
        assert_eq!(csv_cell("-1"), "'-1");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_cell("\t=1"), "'\t=1");
        assert_eq!(csv_cell("\r=1"), "'\\x0d=1");
        assert_eq!(csv_cell("  =1"), "'  =1");
        assert_eq!(csv_cell("＝1"), "'＝1");
        for line in HOSTILE {
            let cell = csv_cell(line);
            let inner = cell.trim_matches('"');
            assert!(
                !inner.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{cell}"
            );
            assert!(!cell.contains(['\n', '\r']), "{cell}");
        }
        assert_eq!(csv_row(&["a", "b,c"]), "a,\"b,c\"\r\n");
        assert_eq!(
            csv_lines_cell("java.lang.Error: x\r\n\tat A.b(A.java:1)\n=1"),
            "\"java.lang.Error: x\n\tat A.b(A.java:1)\n=1\""
        );
        assert_eq!(csv_lines_cell("=1\nb"), "\"'=1\nb\"");
    }
}
