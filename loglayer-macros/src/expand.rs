//! The rewrite behind `#[with_logger]`.
//!
//! The signature, the attributes and the body's braces are kept as written;
//! only what is inside the braces changes. `LOGGER` below is the scope's
//! logger (see [`logger_expr`]):
//!
//! ```text
//! pending(None, &[])                                          #[with_logger]
//! pending(None, &[("k", &ser(&(V)) as &dyn FieldValue), ..])  #[with_logger(context(k = V, ..))]
//! ready(logger_from(Borrow::<LogLayer>::borrow(&(EXPR))))     #[with_logger(logger = EXPR)]
//! pending(Some(Borrow::borrow(&(EXPR))), &[..])               #[with_logger(logger = EXPR, context(..))]
//! ```
//!
//! `pending` records the parent (the current logger, or `EXPR`) and renders
//! the context values at once; the child logger itself is built only when the
//! body first logs or asks for `current()`, so a call that logs nothing
//! allocates nothing. With `err`, `materialize(LOGGER)` builds it up front,
//! because the report needs the very logger the body used.
//!
//! Input:
//!
//! ```text
//! #[with_logger(context(id = order.id))]
//! async fn ship(order: &Order) -> Result<(), ShipError> { BODY }
//! ```
//!
//! Output (an `async fn` stays an `async fn`; the user's block runs in an
//! `async move` block whose return type is pinned by an unreachable `return`,
//! as tracing-attributes does, so `?`, `return` and type errors behave as in
//! the original):
//!
//! ```text
//! async fn ship(order: &Order) -> Result<(), ShipError> {
//!     let __loglayer_logger = LOGGER;
//!     ::loglayer::__private::scope_slot(__loglayer_logger, async move {
//!         if let Some(__loglayer_ret) = None::<Result<(), ShipError>> { return __loglayer_ret; }
//!         #[allow(unused_imports)] use ::loglayer::log;
//!         { BODY }
//!     }).await
//! }
//! ```
//!
//! A plain fn sets the current logger with a guard that restores the previous
//! one on drop (also when unwinding); the body is not wrapped in anything:
//!
//! ```text
//! fn parse(input: &str) -> Config {
//!     let __loglayer_guard = ::loglayer::__private::enter_slot(LOGGER);
//!     #[allow(unused_imports)] use ::loglayer::log;
//!     { BODY }
//! }
//! ```
//!
//! With `err`, the function's result is inspected before it is returned.
//! Async: `let __loglayer_result = ::loglayer::scope(..).await; REPORT; __loglayer_result`.
//! Plain fn: the one place a closure is used, because an early `return` or `?`
//! in BODY must still reach the report:
//! `let __loglayer_result = (move || { FAKE_RETURN BODY })(); REPORT; __loglayer_result`.
//!
//! A function already expanded by `#[async_trait]` is a plain fn whose body
//! ends in `Box::pin(async move { .. })`. The logger is computed in the plain
//! part (so `self` and the arguments are still reachable under their own
//! names) and the async block runs in the scope:
//! `Box::pin(::loglayer::__private::scope_slot(__loglayer_logger, async move { .. }))`.

use proc_macro2::{Delimiter, Group, Ident, Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{
    AttrStyle, Block, Error, Expr, ExprAsync, FnArg, ItemFn, LitStr, Pat, ReturnType, Signature,
    Stmt, Type,
};

use crate::args::{Args, ErrOption, FieldValue};

/// Rewrites `func` so that its body runs in a logger scope.
pub(crate) fn expand(args: Args, func: ItemFn) -> syn::Result<TokenStream> {
    check(&args, &func)?;
    let scope = Scope {
        logger: logger_expr(&args),
        err: args.err.as_ref(),
        fn_name: func.sig.ident.to_string(),
    };
    let body = if func.sig.asyncness.is_some() {
        scope.async_fn(&func.sig, &func.block)
    } else if let Some(found) = AsyncTraitBody::find(&func.block) {
        scope.async_trait_fn(found)
    } else {
        scope.plain_fn(&func.sig, &func.block)
    };
    Ok(emit(&func, body))
}

/// `func` with its body replaced by `body`, keeping attributes, signature and
/// the braces' span. Inner attributes (`#![...]`) stay at the top of the body.
pub(crate) fn emit(func: &ItemFn, body: TokenStream) -> TokenStream {
    let outer = func
        .attrs
        .iter()
        .filter(|attr| matches!(attr.style, AttrStyle::Outer));
    let inner = func
        .attrs
        .iter()
        .filter(|attr| matches!(attr.style, AttrStyle::Inner(_)));
    let mut braces = Group::new(Delimiter::Brace, quote!(#(#inner)* #body));
    braces.set_span(func.block.brace_token.span.join());
    let ItemFn { vis, sig, .. } = func;
    quote!(#(#outer)* #vis #sig #braces)
}

/// The statement that makes `log!` usable without an import in the body.
pub(crate) fn log_import() -> TokenStream {
    quote! {
        #[allow(unused_imports)]
        use ::loglayer::log;
    }
}

/// Misuse that parsing alone cannot see, reported together.
fn check(args: &Args, func: &ItemFn) -> syn::Result<()> {
    let mut errors: Vec<Error> = Vec::new();

    if let Some(constness) = &func.sig.constness {
        errors.push(Error::new_spanned(
            constness,
            "`#[with_logger]` cannot be used on a `const fn`: remove `const` or the attribute",
        ));
    }

    let names = argument_names(&func.sig);
    for field in args.context.iter().flatten() {
        if let FieldValue::Arg(ident) = &field.value {
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
fn argument_names(sig: &Signature) -> Vec<Ident> {
    fn collect(pat: &Pat, names: &mut Vec<Ident>) {
        match pat {
            Pat::Ident(pat) => {
                names.push(pat.ident.clone());
                if let Some((_, sub)) = &pat.subpat {
                    collect(sub, names);
                }
            }
            Pat::Reference(pat) => collect(&pat.pat, names),
            Pat::Type(pat) => collect(&pat.pat, names),
            Pat::Paren(pat) => collect(&pat.pat, names),
            Pat::Tuple(pat) => pat.elems.iter().for_each(|p| collect(p, names)),
            Pat::TupleStruct(pat) => pat.elems.iter().for_each(|p| collect(p, names)),
            Pat::Slice(pat) => pat.elems.iter().for_each(|p| collect(p, names)),
            Pat::Struct(pat) => pat.fields.iter().for_each(|f| collect(&f.pat, names)),
            _ => {}
        }
    }
    let mut names = Vec::new();
    for input in &sig.inputs {
        if let FnArg::Typed(arg) = input {
            collect(&arg.pat, &mut names);
        }
    }
    names
}

/// The expression that computes the scope's logger, evaluated when the body
/// starts. Context values are borrowed and recorded at once: nothing is moved
/// or kept, so the body still owns every argument.
fn logger_expr(args: &Args) -> TokenStream {
    // `LogLayer`, `&LogLayer` (and `Arc<LogLayer>`) all borrow as `&LogLayer`,
    // so the caller's logger is never moved out.
    let borrowed = args.logger.as_ref().map(|expr| {
        quote_spanned! {expr.span()=>
            ::core::borrow::Borrow::<::loglayer::LogLayer>::borrow(&(#expr))
        }
    });
    if let (Some(borrowed), None) = (&borrowed, &args.context) {
        return quote!(::loglayer::__private::ready(::loglayer::__private::logger_from(#borrowed)));
    }
    let base = match borrowed {
        Some(b) => quote!(::core::option::Option::Some(#b)),
        None => quote!(::core::option::Option::None),
    };
    let entries = args.context.iter().flatten().map(|field| {
        let key = LitStr::new(&field.key.name, field.key.span);
        // Spanned on the user's expression, so a missing `Serialize`, `Debug`
        // or `Display` impl is reported there.
        let (span, wrap, value) = match &field.value {
            FieldValue::Arg(ident) => (ident.span(), "ser", ident.to_token_stream()),
            FieldValue::Serialize(expr) => (expr.span(), "ser", expr.to_token_stream()),
            FieldValue::Debug(expr) => (expr.span(), "dbg", expr.to_token_stream()),
            FieldValue::Display(expr) => (expr.span(), "disp", expr.to_token_stream()),
        };
        let wrap = Ident::new(wrap, span);
        quote_spanned! {span=>
            (#key, &::loglayer::__private::#wrap(&(#value)) as &dyn ::loglayer::__private::FieldValue)
        }
    });
    // A pending child: built only if the body logs or asks for `current()`.
    quote!(::loglayer::__private::pending(#base, &[#(#entries),*]))
}

/// What every shape of function needs to build its new body.
struct Scope<'a> {
    /// Computes the scope's logger.
    logger: TokenStream,
    err: Option<&'a ErrOption>,
    fn_name: String,
}

impl Scope<'_> {
    fn async_fn(&self, sig: &Signature, block: &Block) -> TokenStream {
        let logger = &self.logger;
        let fake_return = fake_return(sig);
        let import = log_import();
        let body = quote! {
            async move {
                #fake_return
                #import
                #block
            }
        };
        match self.err {
            None => quote! {
                let __loglayer_logger = #logger;
                ::loglayer::__private::scope_slot(__loglayer_logger, #body).await
            },
            Some(err) => {
                let report = self.report(err);
                let scoped = quote!(::loglayer::scope(__loglayer_logger, #body));
                quote! {
                    let __loglayer_logger: ::loglayer::LogLayer =
                        ::loglayer::__private::materialize(#logger);
                    let __loglayer_err_logger = ::core::clone::Clone::clone(&__loglayer_logger);
                    let __loglayer_result = #scoped.await;
                    #report
                    __loglayer_result
                }
            }
        }
    }

    fn plain_fn(&self, sig: &Signature, block: &Block) -> TokenStream {
        let logger = &self.logger;
        let import = log_import();
        match self.err {
            None => quote! {
                let __loglayer_guard = ::loglayer::__private::enter_slot(#logger);
                #import
                #block
            },
            Some(err) => {
                let fake_return = fake_return(sig);
                let report = self.report(err);
                quote! {
                    let __loglayer_logger: ::loglayer::LogLayer =
                        ::loglayer::__private::materialize(#logger);
                    let __loglayer_err_logger = ::core::clone::Clone::clone(&__loglayer_logger);
                    let __loglayer_guard = ::loglayer::__private::enter(__loglayer_logger);
                    #import
                    #[allow(clippy::redundant_closure_call)]
                    let __loglayer_result = (move || {
                        #fake_return
                        #block
                    })();
                    #report
                    __loglayer_result
                }
            }
        }
    }

    fn async_trait_fn(&self, found: AsyncTraitBody<'_>) -> TokenStream {
        let logger = &self.logger;
        let import = log_import();
        let AsyncTraitBody {
            before,
            box_pin,
            future,
        } = found;
        let attrs = &future.attrs;
        let inner = &future.block;
        match self.err {
            None => quote! {
                #(#before)*
                let __loglayer_logger = #logger;
                #box_pin(::loglayer::__private::scope_slot(__loglayer_logger, #(#attrs)* async move {
                    #import
                    #inner
                }))
            },
            Some(err) => {
                let report = self.report(err);
                quote! {
                    #(#before)*
                    let __loglayer_logger: ::loglayer::LogLayer =
                        ::loglayer::__private::materialize(#logger);
                    let __loglayer_err_logger = ::core::clone::Clone::clone(&__loglayer_logger);
                    #box_pin(::loglayer::scope(__loglayer_logger, #(#attrs)* async move {
                        #import
                        let __loglayer_result = async move #inner.await;
                        #report
                        __loglayer_result
                    }))
                }
            }
        }
    }

    /// Logs `__loglayer_result` if it is an `Err`. The pattern is spanned on
    /// the `err` option, so a function that does not return a `Result` gets
    /// its type error there.
    fn report(&self, err: &ErrOption) -> TokenStream {
        let level = Ident::new(err.level.variant(), Span::call_site());
        let fn_name = &self.fn_name;
        let err_pattern = quote_spanned!(err.span=> ::core::result::Result::Err(__loglayer_e));
        quote! {
            if let #err_pattern = &__loglayer_result {
                #[allow(unused_imports)]
                use ::loglayer::__private::{ReportAsDisplay as _, ReportAsError as _};
                (&::loglayer::__private::ErrWrap(__loglayer_e)).__loglayer_report(
                    &__loglayer_err_logger,
                    ::loglayer::Level::#level,
                    #fn_name,
                );
            }
        }
    }
}

/// An unreachable `return` of the declared type, placed first in a new async
/// block or closure: it fixes the block's return type before the body is
/// checked, so `?` converts errors and `return` type-checks as in the
/// original function. Spanned on the return type, which is where rustc
/// points for "expected because of return type".
fn fake_return(sig: &Signature) -> TokenStream {
    let (ty, span) = match &sig.output {
        ReturnType::Default => (quote!(()), sig.ident.span()),
        ReturnType::Type(_, ty) => (erase_impl_trait(ty), ty.span()),
    };
    quote_spanned! {span=>
        if let ::core::option::Option::Some(__loglayer_ret) = ::core::option::Option::None::<#ty> {
            #[allow(unreachable_code)]
            return __loglayer_ret;
        }
    }
}

/// The type with every `impl Trait` replaced by `_`, so it can be named in
/// the body.
fn erase_impl_trait(ty: &Type) -> TokenStream {
    struct Eraser;
    impl VisitMut for Eraser {
        fn visit_type_mut(&mut self, ty: &mut Type) {
            if let Type::ImplTrait(impl_trait) = ty {
                *ty = Type::Infer(syn::TypeInfer {
                    underscore_token: syn::Token![_](impl_trait.span()),
                });
            } else {
                syn::visit_mut::visit_type_mut(self, ty);
            }
        }
    }
    let mut ty = ty.clone();
    Eraser.visit_type_mut(&mut ty);
    ty.into_token_stream()
}

/// The body of a function that `#[async_trait]` already rewrote:
/// `BEFORE; Box::pin(async move { .. })`.
struct AsyncTraitBody<'a> {
    before: &'a [Stmt],
    /// The `Box::pin` path, emitted as written.
    box_pin: &'a Expr,
    future: &'a ExprAsync,
}

impl<'a> AsyncTraitBody<'a> {
    fn find(block: &'a Block) -> Option<Self> {
        let (last, before) = block.stmts.split_last()?;
        let Stmt::Expr(Expr::Call(call), None) = last else {
            return None;
        };
        let Expr::Path(path) = &*call.func else {
            return None;
        };
        let mut segments = path.path.segments.iter().rev();
        let is_box_pin = matches!(
            (segments.next(), segments.next()),
            (Some(pin), Some(boxed)) if pin.ident == "pin" && boxed.ident == "Box"
        );
        if !is_box_pin || call.args.len() != 1 {
            return None;
        }
        match &call.args[0] {
            Expr::Async(future) if future.capture.is_some() => Some(AsyncTraitBody {
                before,
                box_pin: &call.func,
                future,
            }),
            _ => None,
        }
    }
}
