//! Misuse that parsing alone cannot see (it needs the function): a `const
//! fn`, a bare context name that is not an argument, `err` on a function
//! that returns `()`. Reported together, each on its token.

use proc_macro2::Ident;
use syn::{Error, FnArg, ItemFn, Pat, ReturnType, Signature};

use crate::args::{Args, Value};
use crate::shape::Shape;

/// Misuse that parsing alone cannot see, reported together.
pub(crate) fn check(args: &Args, func: &ItemFn, shape: &Shape<'_>) -> syn::Result<()> {
    let mut errors: Vec<Error> = Vec::new();

    if let Some(constness) = &func.sig.constness {
        errors.push(Error::new_spanned(
            constness,
            "`#[with_logger]` cannot be used on a `const fn`: remove `const` or the attribute",
        ));
    }

    let names = match shape {
        Shape::AsyncTrait(found) => found.argument_names(&func.sig),
        _ => argument_names(&func.sig),
    };
    for field in args.context.iter().flatten() {
        if let Value::Arg(ident) = &field.value {
            if !names.iter().any(|name| name == ident) {
                errors.push(Error::new_spanned(ident, unknown_argument(ident, &names)));
            }
        }
    }

    if let (Some(err), ReturnType::Default) = (&args.err, &func.sig.output) {
        errors.push(Error::new(
            err.span,
            "`err` needs a function that returns a `Result`, this one returns `()`",
        ));
    }

    let mut errors = errors.into_iter();
    match errors.next() {
        None => Ok(()),
        Some(mut first) => {
            first.extend(errors);
            Err(first)
        }
    }
}

fn unknown_argument(ident: &Ident, names: &[Ident]) -> String {
    if names.is_empty() {
        format!("`{ident}` is not an argument: this function has none; write `{ident} = expr`")
    } else {
        let names: Vec<String> = names.iter().map(|name| format!("`{name}`")).collect();
        format!(
            "`{ident}` is not an argument of this function, expected one of: {}; or write `{ident} = expr`",
            names.join(", ")
        )
    }
}

/// The names bound by the function's arguments (not `self`, which cannot be
/// a bare context field).
pub(crate) fn argument_names(sig: &Signature) -> Vec<Ident> {
    let mut names = Vec::new();
    for input in &sig.inputs {
        if let FnArg::Typed(arg) = input {
            pattern_names(&arg.pat, &mut names);
        }
    }
    names
}

/// The names a pattern binds.
pub(crate) fn pattern_names(pat: &Pat, names: &mut Vec<Ident>) {
    match pat {
        Pat::Ident(pat) => {
            names.push(pat.ident.clone());
            if let Some((_, sub)) = &pat.subpat {
                pattern_names(sub, names);
            }
        }
        Pat::Reference(pat) => pattern_names(&pat.pat, names),
        Pat::Type(pat) => pattern_names(&pat.pat, names),
        Pat::Paren(pat) => pattern_names(&pat.pat, names),
        Pat::Tuple(pat) => pat.elems.iter().for_each(|p| pattern_names(p, names)),
        Pat::TupleStruct(pat) => pat.elems.iter().for_each(|p| pattern_names(p, names)),
        Pat::Slice(pat) => pat.elems.iter().for_each(|p| pattern_names(p, names)),
        Pat::Struct(pat) => pat.fields.iter().for_each(|f| pattern_names(&f.pat, names)),
        _ => {}
    }
}
