//! The options of `#[with_logger(...)]`, parsed into plain data.
//!
//! ```text
//! #[with_logger]
//! #[with_logger(context(key = expr, key = ?expr, key = %expr, "a.key" = expr, arg, ?arg, %arg))]
//! #[with_logger(logger = expr)]
//! #[with_logger(err)]  #[with_logger(err(level = warn))]
//! #[with_logger(group = "database")]
//! ```
//!
//! Options come in any order, separated by commas, each at most once. Parsing
//! knows nothing about the function; checks that need it (does a bare `arg`
//! name an argument?) live in `expand.rs`.

use proc_macro2::Span;
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{token, Error, Expr, Ident, LitStr, Result, Token};

mod kw {
    syn::custom_keyword!(context);
    syn::custom_keyword!(logger);
    syn::custom_keyword!(err);
    syn::custom_keyword!(group);
    syn::custom_keyword!(level);
    syn::custom_keyword!(trace);
    syn::custom_keyword!(debug);
    syn::custom_keyword!(info);
    syn::custom_keyword!(warn);
    syn::custom_keyword!(error);
    syn::custom_keyword!(fatal);
}

/// Everything between the parentheses of `#[with_logger(...)]`.
#[derive(Default)]
pub(crate) struct Args {
    /// `context(...)`: keys added to the scope's logger.
    pub(crate) context: Option<Vec<Field>>,
    /// `logger = expr`: the logger the scope starts from.
    pub(crate) logger: Option<Expr>,
    /// `err` / `err(level = ...)`: log an `Err` the function returns.
    pub(crate) err: Option<ErrOption>,
    /// `group = "name"`: the scope's logger tags its entries with this group.
    pub(crate) group: Option<LitStr>,
}

/// One entry of `context(...)`. The grammar is the level macros' (the table
/// in `loglayer/src/macros.rs`), minus `err = ...`, which is no key there.
pub(crate) struct Field {
    pub(crate) key: Key,
    pub(crate) value: Value,
    pub(crate) record: Record,
}

/// The name a context value is stored under.
pub(crate) struct Key {
    /// The key as it appears in the output (`r#type` is `type`).
    pub(crate) name: String,
    pub(crate) span: Span,
}

/// Where a context value comes from.
pub(crate) enum Value {
    /// `arg`, `?arg`, `%arg`: the function argument of that name.
    Arg(Ident),
    /// `key = expr` (and its `?`/`%` forms).
    Expr(Expr),
}

/// How a context value is recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Record {
    /// No sigil: serialized with `serde::Serialize`.
    Serialize,
    /// `?`: its `Debug` text.
    Debug,
    /// `%`: its `Display` text.
    Display,
}

impl Record {
    /// The `loglayer::__private` function that wraps a value this way.
    pub(crate) fn wrapper(self) -> &'static str {
        match self {
            Record::Serialize => "ser",
            Record::Debug => "dbg",
            Record::Display => "disp",
        }
    }
}

/// `err` or `err(level = <level>)`.
pub(crate) struct ErrOption {
    /// The `err` keyword, where type errors about the return type point.
    pub(crate) span: Span,
    pub(crate) level: Level,
}

/// The level words accepted by `err(level = ...)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
    Fatal,
}

impl Level {
    /// The name of the `loglayer::Level` variant.
    pub(crate) fn variant(self) -> &'static str {
        match self {
            Level::Trace => "Trace",
            Level::Debug => "Debug",
            Level::Info => "Info",
            Level::Warn => "Warn",
            Level::Error => "Error",
            Level::Fatal => "Fatal",
        }
    }
}

impl Parse for Args {
    fn parse(input: ParseStream<'_>) -> Result<Self> {
        let mut args = Args::default();
        while !input.is_empty() {
            let lookahead = input.lookahead1();
            if lookahead.peek(kw::context) {
                let keyword: kw::context = input.parse()?;
                reject_duplicate(&args.context, &keyword)?;
                args.context = Some(parse_context(input, &keyword)?);
            } else if lookahead.peek(kw::logger) {
                let keyword: kw::logger = input.parse()?;
                reject_duplicate(&args.logger, &keyword)?;
                input.parse::<Token![=]>()?;
                args.logger = Some(input.parse()?);
            } else if lookahead.peek(kw::err) {
                let keyword: kw::err = input.parse()?;
                reject_duplicate(&args.err, &keyword)?;
                args.err = Some(ErrOption {
                    span: keyword.span,
                    level: parse_err_level(input)?,
                });
            } else if lookahead.peek(kw::group) {
                let keyword: kw::group = input.parse()?;
                reject_duplicate(&args.group, &keyword)?;
                input.parse::<Token![=]>()?;
                args.group = Some(parse_group(input)?);
            } else {
                return Err(lookahead.error());
            }
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        Ok(args)
    }
}

/// The one place that reports an option given twice, on its second keyword.
fn reject_duplicate<T>(slot: &Option<T>, keyword: &impl ToTokens) -> Result<()> {
    match slot {
        None => Ok(()),
        Some(_) => Err(Error::new_spanned(
            keyword,
            format!(
                "duplicate option `{}`: each of `context`, `logger`, `err`, `group` may be given once",
                keyword.to_token_stream()
            ),
        )),
    }
}

/// `(k = v, ...)` after the `context` keyword.
fn parse_context(input: ParseStream<'_>, keyword: &kw::context) -> Result<Vec<Field>> {
    if !input.peek(token::Paren) {
        return Err(Error::new_spanned(
            keyword,
            "expected `context(key = value, ...)`",
        ));
    }
    let content;
    syn::parenthesized!(content in input);
    let fields = Punctuated::<Field, Token![,]>::parse_terminated(&content)?;

    let mut seen: Vec<&str> = Vec::new();
    for field in &fields {
        if seen.contains(&field.key.name.as_str()) {
            return Err(Error::new(
                field.key.span,
                format!("duplicate context key `{}`", field.key.name),
            ));
        }
        seen.push(&field.key.name);
    }
    Ok(fields.into_iter().collect())
}

/// The group's name after `group =`: a non-empty string literal, so the
/// expansion can hand the runtime a `&'static str`.
fn parse_group(input: ParseStream<'_>) -> Result<LitStr> {
    if !input.peek(LitStr) {
        let message = "expected a string literal: `group = \"name\"`";
        return Err(match input.parse::<Expr>() {
            Ok(expr) => Error::new_spanned(expr, message),
            Err(_) => input.error(message),
        });
    }
    let name: LitStr = input.parse()?;
    if name.value().is_empty() {
        return Err(Error::new_spanned(&name, "a group name cannot be empty"));
    }
    Ok(name)
}

/// Nothing (level `error`), or `(level = <level>)` after the `err` keyword.
fn parse_err_level(input: ParseStream<'_>) -> Result<Level> {
    if !input.peek(token::Paren) {
        return Ok(Level::Error);
    }
    let content;
    syn::parenthesized!(content in input);
    content.parse::<kw::level>()?;
    content.parse::<Token![=]>()?;

    let lookahead = content.lookahead1();
    let level = if lookahead.peek(kw::trace) {
        content.parse::<kw::trace>()?;
        Level::Trace
    } else if lookahead.peek(kw::debug) {
        content.parse::<kw::debug>()?;
        Level::Debug
    } else if lookahead.peek(kw::info) {
        content.parse::<kw::info>()?;
        Level::Info
    } else if lookahead.peek(kw::warn) {
        content.parse::<kw::warn>()?;
        Level::Warn
    } else if lookahead.peek(kw::error) {
        content.parse::<kw::error>()?;
        Level::Error
    } else if lookahead.peek(kw::fatal) {
        content.parse::<kw::fatal>()?;
        Level::Fatal
    } else {
        return Err(lookahead.error());
    };
    if !content.is_empty() {
        return Err(content.error("expected `)`: `err(level = <level>)` takes only `level`"));
    }
    Ok(level)
}

impl Parse for Field {
    fn parse(input: ParseStream<'_>) -> Result<Self> {
        let lookahead = input.lookahead1();
        if lookahead.peek(LitStr) {
            let lit: LitStr = input.parse()?;
            if !input.peek(Token![=]) {
                return Err(Error::new_spanned(
                    &lit,
                    "a string key needs a value: `\"key\" = expr`",
                ));
            }
            let key = Key {
                name: lit.value(),
                span: lit.span(),
            };
            let (record, value) = parse_value(input)?;
            return Ok(Field { key, value, record });
        }
        // `?arg` / `%arg`: a bare argument with a sigil.
        let sigil = if lookahead.peek(Ident::peek_any) {
            Record::Serialize
        } else if lookahead.peek(Token![?]) || lookahead.peek(Token![%]) {
            parse_sigil(input)?
        } else {
            return Err(lookahead.error());
        };

        let ident = Ident::parse_any(input)?;
        let key = Key {
            name: ident.unraw().to_string(),
            span: ident.span(),
        };
        if input.peek(Token![=]) {
            if sigil != Record::Serialize {
                return Err(Error::new_spanned(
                    &ident,
                    "a `?` or `%` goes after the `=`: write `key = ?expr` or `key = %expr`",
                ));
            }
            let (record, value) = parse_value(input)?;
            return Ok(Field { key, value, record });
        }
        // A bare name: the argument of that name (checked against the
        // function's arguments in `expand.rs`).
        if ident == "self" {
            return Err(Error::new_spanned(
                &ident,
                "`self` cannot be a bare context field: write `key = self.field`, `key = ?self` or `key = %self`",
            ));
        }
        Ok(Field {
            key,
            value: Value::Arg(ident),
            record: sigil,
        })
    }
}

/// `?` (Debug), `%` (Display) or nothing (serde).
fn parse_sigil(input: ParseStream<'_>) -> Result<Record> {
    if input.peek(Token![?]) {
        input.parse::<Token![?]>()?;
        Ok(Record::Debug)
    } else if input.peek(Token![%]) {
        input.parse::<Token![%]>()?;
        Ok(Record::Display)
    } else {
        Ok(Record::Serialize)
    }
}

/// `= expr`, `= ?expr` or `= %expr`.
fn parse_value(input: ParseStream<'_>) -> Result<(Record, Value)> {
    input.parse::<Token![=]>()?;
    let record = parse_sigil(input)?;
    Ok((record, Value::Expr(input.parse()?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(src: &str) -> Result<Args> {
        syn::parse_str::<Args>(src)
    }

    fn error(src: &str) -> String {
        match parse(src) {
            Ok(_) => panic!("`{src}` parsed, expected an error"),
            Err(err) => err.to_string(),
        }
    }

    #[test]
    fn empty_means_defaults() {
        let args = parse("").unwrap();
        assert!(args.context.is_none() && args.logger.is_none() && args.err.is_none());
        assert!(args.group.is_none());
    }

    #[test]
    fn all_options_in_any_order() {
        let args = parse("err(level = warn), context(a = 1, b = ?x, c = %y, d, \"e.f\" = 2, ?g, %h, \"i\" = %j), group = \"db\", logger = &req.logger,").unwrap();
        assert_eq!(args.err.unwrap().level, Level::Warn);
        assert_eq!(args.group.unwrap().value(), "db");
        assert!(args.logger.is_some());
        let fields = args.context.unwrap();
        let names: Vec<_> = fields.iter().map(|f| f.key.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "c", "d", "e.f", "g", "h", "i"]);
        let records: Vec<_> = fields.iter().map(|f| f.record).collect();
        use Record::{Debug as D, Display as P, Serialize as S};
        assert_eq!(records, [S, D, P, S, S, D, P, P]);
        let args: Vec<_> = fields
            .iter()
            .map(|f| matches!(f.value, Value::Arg(_)))
            .collect();
        assert_eq!(args, [false, false, false, true, false, true, true, false]);
    }

    #[test]
    fn err_defaults_to_error_level() {
        assert_eq!(parse("err").unwrap().err.unwrap().level, Level::Error);
        assert_eq!(
            parse("err(level = fatal)").unwrap().err.unwrap().level,
            Level::Fatal
        );
    }

    #[test]
    fn raw_and_keyword_keys() {
        let args = parse("context(r#type = 1, r#match = 2, ?r#fn)").unwrap();
        let names: Vec<_> = args
            .context
            .unwrap()
            .into_iter()
            .map(|f| f.key.name)
            .collect();
        assert_eq!(names, ["type", "match", "fn"]);
    }

    #[test]
    fn unknown_option_lists_the_accepted_ones() {
        assert_eq!(
            error("level = info"),
            "expected one of: `context`, `logger`, `err`, `group`"
        );
    }

    #[test]
    fn repeated_option() {
        assert_eq!(
            error("err, context(a = 1), err"),
            "duplicate option `err`: each of `context`, `logger`, `err`, `group` may be given once"
        );
    }

    #[test]
    fn malformed_group() {
        assert_eq!(
            error("group = DB"),
            "expected a string literal: `group = \"name\"`"
        );
        assert!(error("group =").ends_with("expected a string literal: `group = \"name\"`"));
        assert_eq!(error("group(\"db\")"), "expected `=`");
        assert_eq!(error("group = \"\""), "a group name cannot be empty");
        assert_eq!(
            error("group = \"a\", group = \"b\""),
            "duplicate option `group`: each of `context`, `logger`, `err`, `group` may be given once"
        );
    }

    #[test]
    fn malformed_context() {
        assert!(error("context(k =)").contains("expected an expression"));
        assert_eq!(
            error("context(1 = x)"),
            "expected one of: string literal, identifier, `?`, `%`"
        );
        assert!(error("context(?k = x)").starts_with("a `?` or `%` goes after the `=`"));
        assert!(error("context(%self)").starts_with("`self` cannot be a bare context field"));
        assert_eq!(error("context(a b)"), "expected `,`");
        assert_eq!(error("context"), "expected `context(key = value, ...)`");
        assert_eq!(error("context(a = 1, a = 2)"), "duplicate context key `a`");
        assert!(error("context(self)").starts_with("`self` cannot be a bare context field"));
        assert!(error("context(\"k\")").starts_with("a string key needs a value"));
    }

    #[test]
    fn malformed_err() {
        assert_eq!(
            error("err(level = loud)"),
            "expected one of: `trace`, `debug`, `info`, `warn`, `error`, `fatal`"
        );
        assert_eq!(error("err(lvl = warn)"), "expected `level`");
    }

    #[test]
    fn options_need_commas() {
        assert_eq!(error("err context(a = 1)"), "expected `,`");
    }
}
