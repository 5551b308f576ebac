//! The rewrite behind `#[with_logger]`.
//!
//! The signature and the attributes are kept as written; only the body
//! changes. `NOW` and `LATER` below compute the scope's logger (see
//! [`Scope::logger_now`] and [`Scope::logger_later`]); `FIELDS` is
//! `&[("k", &ser(&(V)) as &dyn FieldValue), ..]`, the context values
//! rendered where it is evaluated:
//!
//! ```text
//!                                       NOW                         LATER
//! #[with_logger]                        pending(None, &[])          deferred(&[])
//! context(k = V, ..)                    pending(None, FIELDS)       deferred(FIELDS)
//! logger = EXPR                         ready(logger_from(Borrow::<LogLayer>::borrow(&(EXPR))))
//! logger = EXPR, context(..)            pending(Some(Borrow::borrow(&(EXPR))), FIELDS)
//! ```
//!
//! `pending` snapshots its parent (the current logger, or `EXPR`) where it
//! runs; `deferred` takes as parent the logger current when the future it is
//! given to is first polled. Either way the child is built only if the body
//! logs or asks for `current()`, so a call that logs nothing allocates nothing.
//! An explicit `logger = EXPR` is always taken where it is evaluated.
//!
//! **`async fn`** (an `async fn` stays an `async fn`; the user's block runs in
//! an `async move` block whose return type is pinned by an unreachable
//! `return`, as tracing-attributes does, so `?`, `return` and type errors
//! behave as in the original):
//!
//! ```text
//! async fn ship(order: &Order) -> Result<(), ShipError> {
//!     let __loglayer_logger = NOW;
//!     ::loglayer::__private::scope_slot(__loglayer_logger, FUTURE).await
//! }
//! // FUTURE:
//! async move {
//!     if let Some(__loglayer_ret) = None::<Result<(), ShipError>> { return __loglayer_ret; }
//!     #[allow(unused_imports)] use ::loglayer::log;
//!     { BODY }
//! }
//! ```
//!
//! **Plain fn**: a guard sets the current logger and restores the previous
//! one on drop (also when unwinding); the body is not wrapped in anything:
//!
//! ```text
//! fn parse(input: &str) -> Config {
//!     let __loglayer_guard = ::loglayer::__private::enter_slot(NOW);
//!     #[allow(unused_imports)] use ::loglayer::log;
//!     { BODY }
//! }
//! ```
//!
//! **A plain fn returning a future** (its tail is `async {..}`,
//! `Box::pin(async {..})` or `EXPR.boxed()`): the context values are rendered
//! at the call, the statements before the tail run as written (in the
//! caller's scope), and the returned future runs in the scope, whose parent is
//! taken when it is first polled — the rule of an `async fn`:
//!
//! ```text
//! fn fetch(id: u64) -> impl Future<Output = Row> {
//!     let __loglayer_logger = LATER;
//!     #[allow(unused_imports)] use ::loglayer::log;
//!     STATEMENTS;
//!     ::loglayer::__private::scope_slot(__loglayer_logger, async move { FAKE_RETURN BODY })
//!     // or Box::pin(scope_slot(.., async { .. })), or scope_slot(.., EXPR).boxed()
//! }
//! ```
//!
//! **`#[async_trait]` methods** arrive already rewritten, as a plain fn whose
//! body is `Box::pin(async move { DECLS; let __ret: Ret = { BODY }; __ret })`
//! (DECLS rebind the arguments, `self` as `__self`, and destructure pattern
//! arguments). The user wrote an `async fn`, so it gets an `async fn`'s
//! expansion, placed after DECLS where every argument name is bound (`self`
//! in the options is read as `__self`):
//!
//! ```text
//! Box::pin(async move {
//!     DECLS;
//!     let __ret: Ret = {
//!         let __loglayer_logger = NOW;
//!         ::loglayer::__private::scope_slot(__loglayer_logger, FUTURE).await
//!     };
//!     __ret
//! })
//! ```
//!
//! **`err`**: the report runs inside the scope, through `current()`, so it
//! uses the very logger the body used (built only if an `Err` comes back):
//!
//! ```text
//! REPORT = if let Err(__loglayer_e) = &__loglayer_result {
//!     report(&current(), Level::Error, "fn_name", (&&&&ErrWrap(__loglayer_e)).__loglayer_err());
//! }
//! ```
//!
//! Futures: `FUTURE` becomes
//! `async move { let __loglayer_result = FUTURE.await; REPORT; __loglayer_result }`.
//! Plain fn: the one place a closure is used, because an early `return` or `?`
//! in BODY must still reach the report:
//! `let __loglayer_result = (move || { FAKE_RETURN BODY })(); REPORT; __loglayer_result`
//! after the guard.
//!
//! The user's block keeps its braces' position but gets the macro's hygiene
//! on them, so rustc's `unused_braces` lint does not fire on a one-line body
//! (`fn f() -> u32 { 42 }`) that is now a block nested in ours.

use proc_macro2::{Delimiter, Group, Ident, Span, TokenStream, TokenTree};
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{
    AttrStyle, Block, Error, Expr, ExprAsync, ExprCall, ExprMethodCall, FnArg, GenericArgument,
    ItemFn, LitStr, Local, Pat, PathArguments, ReturnType, Signature, Stmt, Type,
};

use crate::args::{Args, ErrOption, Value};

/// Rewrites `func` so that its body runs in a logger scope.
pub(crate) fn expand(args: Args, func: ItemFn) -> syn::Result<TokenStream> {
    let shape = Shape::of(&func);
    check(&args, &func, &shape)?;
    let scope = Scope {
        args: &args,
        fn_name: func.sig.ident.to_string(),
    };
    let body = match shape {
        Shape::AsyncFn => scope.async_fn(&func.sig, &func.block),
        Shape::AsyncTrait(found) => scope.async_trait_fn(&func.sig, found),
        Shape::ReturnsFuture(tail) => scope.future_fn(&func.sig, &func.block, tail),
        Shape::Plain => scope.plain_fn(&func.sig, &func.block),
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

/// The user's block, nested in the expansion. Its braces keep their position
/// (rustc's "expected because of this block" still points there) but take
/// the macro's hygiene, so lints about the braces themselves
/// (`unused_braces` on a one-line body) see generated code.
fn nested(block: &Block) -> TokenStream {
    let stmts = &block.stmts;
    let mut braces = Group::new(Delimiter::Brace, quote!(#(#stmts)*));
    braces.set_span(
        block
            .brace_token
            .span
            .join()
            .resolved_at(Span::mixed_site()),
    );
    braces.into_token_stream()
}

/// The kinds of function the attribute rewrites differently.
enum Shape<'a> {
    AsyncFn,
    /// Already expanded by `#[async_trait]`.
    AsyncTrait(AsyncTraitBody<'a>),
    /// A plain fn whose tail expression is a future.
    ReturnsFuture(FutureTail<'a>),
    Plain,
}

impl<'a> Shape<'a> {
    fn of(func: &'a ItemFn) -> Self {
        if func.sig.asyncness.is_some() {
            Shape::AsyncFn
        } else if let Some(found) = AsyncTraitBody::find(func) {
            Shape::AsyncTrait(found)
        } else if let Some(tail) = FutureTail::find(func) {
            Shape::ReturnsFuture(tail)
        } else {
            Shape::Plain
        }
    }
}

/// Misuse that parsing alone cannot see, reported together.
fn check(args: &Args, func: &ItemFn, shape: &Shape<'_>) -> syn::Result<()> {
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
fn argument_names(sig: &Signature) -> Vec<Ident> {
    let mut names = Vec::new();
    for input in &sig.inputs {
        if let FnArg::Typed(arg) = input {
            pattern_names(&arg.pat, &mut names);
        }
    }
    names
}

/// The names a pattern binds.
fn pattern_names(pat: &Pat, names: &mut Vec<Ident>) {
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

/// What every shape of function needs to build its new body.
struct Scope<'a> {
    args: &'a Args,
    fn_name: String,
}

impl Scope<'_> {
    /// `NOW`: the scope's logger, its parent taken where this is evaluated.
    /// `self_as` renames `self` in the options (`__self` inside an
    /// `#[async_trait]` body).
    fn logger_now(&self, self_as: SelfAs) -> TokenStream {
        // `LogLayer`, `&LogLayer` (and `Arc<LogLayer>`) all borrow as
        // `&LogLayer`, so the caller's logger is never moved out.
        let borrowed = self.args.logger.as_ref().map(|expr| {
            let value = self_as.apply(expr.to_token_stream());
            quote_spanned! {expr.span()=>
                ::core::borrow::Borrow::<::loglayer::LogLayer>::borrow(&(#value))
            }
        });
        if let (Some(borrowed), None) = (&borrowed, &self.args.context) {
            return quote!(::loglayer::__private::ready(::loglayer::__private::logger_from(#borrowed)));
        }
        let base = match borrowed {
            Some(b) => quote!(::core::option::Option::Some(#b)),
            None => quote!(::core::option::Option::None),
        };
        let fields = self.fields(self_as);
        quote!(::loglayer::__private::pending(#base, #fields))
    }

    /// `LATER`: the scope's logger for a future the function returns; its
    /// parent is the logger current when the future is first polled (unless
    /// `logger = ..` names one, which is taken now).
    fn logger_later(&self) -> TokenStream {
        if self.args.logger.is_some() {
            return self.logger_now(SelfAs::SelfToken);
        }
        let fields = self.fields(SelfAs::SelfToken);
        quote!(::loglayer::__private::deferred(#fields))
    }

    /// `FIELDS`: the context values, borrowed and rendered where this is
    /// evaluated; nothing is moved or kept, so the body still owns every
    /// argument.
    fn fields(&self, self_as: SelfAs) -> TokenStream {
        let entries = self.args.context.iter().flatten().map(|field| {
            let key = LitStr::new(&field.key.name, field.key.span);
            let (span, value) = match &field.value {
                Value::Arg(ident) => (ident.span(), ident.to_token_stream()),
                Value::Expr(expr) => (expr.span(), self_as.apply(expr.to_token_stream())),
            };
            // Spanned on the user's expression, so a missing `Serialize`,
            // `Debug` or `Display` impl is reported there.
            let wrap = Ident::new(field.record.wrapper(), span);
            quote_spanned! {span=>
                (#key, &::loglayer::__private::#wrap(&(#value)) as &dyn ::loglayer::__private::FieldValue)
            }
        });
        quote!(&[#(#entries),*])
    }

    /// `FUTURE` for a body written as an `async fn`'s: the block in an
    /// `async move` whose return type is pinned to `ret`, with the report if
    /// `err` is set.
    fn body_future(&self, ret: &FakeReturn, block: TokenStream) -> TokenStream {
        let import = log_import();
        let fake_return = ret.tokens();
        self.with_report(quote! {
            async move {
                #fake_return
                #import
                #block
            }
        })
    }

    /// `future`, or with `err` a future that reports its `Err` (in the scope,
    /// since it runs inside it).
    fn with_report(&self, future: TokenStream) -> TokenStream {
        match self.args.err.as_ref() {
            None => future,
            Some(err) => {
                let report = self.report(err);
                quote! {
                    async move {
                        let __loglayer_result = #future.await;
                        #report
                        __loglayer_result
                    }
                }
            }
        }
    }

    fn async_fn(&self, sig: &Signature, block: &Block) -> TokenStream {
        let logger = self.logger_now(SelfAs::SelfToken);
        let future = self.body_future(&FakeReturn::of(sig), nested(block));
        quote! {
            let __loglayer_logger = #logger;
            ::loglayer::__private::scope_slot(__loglayer_logger, #future).await
        }
    }

    fn plain_fn(&self, sig: &Signature, block: &Block) -> TokenStream {
        let logger = self.logger_now(SelfAs::SelfToken);
        let import = log_import();
        let block = nested(block);
        match self.args.err.as_ref() {
            None => quote! {
                let __loglayer_guard = ::loglayer::__private::enter_slot(#logger);
                #import
                #block
            },
            Some(err) => {
                let fake_return = FakeReturn::of(sig).tokens();
                let report = self.report(err);
                quote! {
                    let __loglayer_guard = ::loglayer::__private::enter_slot(#logger);
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

    fn future_fn(&self, sig: &Signature, block: &Block, tail: FutureTail<'_>) -> TokenStream {
        let logger = self.logger_later();
        let import = log_import();
        let before = &block.stmts[..block.stmts.len() - 1];
        let output = FakeReturn::of_future(sig);
        // An async block gets the unreachable typed `return` too, so `?` in
        // it infers as it did before the block was wrapped.
        let async_block = |future: &ExprAsync| {
            let ExprAsync {
                attrs,
                capture,
                block,
                ..
            } = future;
            let fake_return = output.tokens();
            let import = log_import();
            let block = nested(block);
            quote!(#(#attrs)* async #capture { #fake_return #import #block })
        };
        let scoped = |future: TokenStream| {
            let future = self.with_report_bound(future);
            quote!(::loglayer::__private::scope_slot(__loglayer_logger, #future))
        };
        let tail = match tail {
            FutureTail::Async(future) => scoped(async_block(future)),
            FutureTail::BoxPin { call, future } => {
                let func = &call.func;
                let scoped = scoped(async_block(future));
                quote!(#func(#scoped))
            }
            FutureTail::Boxed(call) => {
                let ExprMethodCall {
                    attrs,
                    receiver,
                    dot_token,
                    method,
                    turbofish,
                    args,
                    ..
                } = call;
                let scoped = scoped(receiver.to_token_stream());
                quote!(#(#attrs)* #scoped #dot_token #method #turbofish (#args))
            }
        };
        quote! {
            let __loglayer_logger = #logger;
            #import
            #(#before)*
            #tail
        }
    }

    /// [`Self::with_report`] for a future made by the user's code: it is
    /// created here, as written, and only awaited in the scope.
    fn with_report_bound(&self, future: TokenStream) -> TokenStream {
        if self.args.err.is_none() {
            return future;
        }
        let reported = self.with_report(quote!(__loglayer_future));
        quote!({
            let __loglayer_future = #future;
            #reported
        })
    }

    fn async_trait_fn(&self, sig: &Signature, found: AsyncTraitBody<'_>) -> TokenStream {
        let AsyncTraitBody {
            before,
            call,
            future,
            body,
        } = found;
        let box_pin = &call.func;
        let ExprAsync {
            attrs,
            capture,
            block,
            ..
        } = future;
        let inner = match body {
            // `let __ret: Ret = { BODY };` after the DECLS: that block runs
            // in the scope, computed where the DECLS have bound every name.
            Some(at) => {
                let stmts = &block.stmts;
                let (decls, after) = (&stmts[..at], &stmts[at + 1..]);
                let Stmt::Local(local) = &stmts[at] else {
                    unreachable!("`AsyncTraitBody::find` checked it")
                };
                let (ret, user_block) = local_body(local).expect("checked by `find`");
                let logger = self.logger_now(SelfAs::of(sig));
                let future = self.body_future(&FakeReturn::Type(Box::new(ret)), nested(user_block));
                let Local {
                    attrs: local_attrs,
                    let_token,
                    pat,
                    ..
                } = local;
                quote! {
                    #(#decls)*
                    #(#local_attrs)* #let_token #pat = {
                        let __loglayer_logger = #logger;
                        ::loglayer::__private::scope_slot(__loglayer_logger, #future).await
                    };
                    #(#after)*
                }
            }
            // Any other body: all of it runs in the scope.
            None => {
                let logger = self.logger_now(SelfAs::SelfToken);
                let future = self.body_future(&FakeReturn::of_future(sig), nested(block));
                quote! {
                    let __loglayer_logger = #logger;
                    ::loglayer::__private::scope_slot(__loglayer_logger, #future).await
                }
            }
        };
        quote! {
            #(#before)*
            #box_pin(#(#attrs)* async #capture { #inner })
        }
    }

    /// REPORT: logs `__loglayer_result` if it is an `Err`, through the scope's
    /// logger. The pattern is spanned on the `err` option, so a function that
    /// does not return a `Result` gets its type error there.
    fn report(&self, err: &ErrOption) -> TokenStream {
        let level = Ident::new(err.level.variant(), Span::call_site());
        let fn_name = &self.fn_name;
        let err_pattern = quote_spanned!(err.span=> ::core::result::Result::Err(__loglayer_e));
        quote! {
            if let #err_pattern = &__loglayer_result {
                #[allow(unused_imports)]
                use ::loglayer::__private::{
                    ReportAsDerefDerefError as _, ReportAsDerefError as _, ReportAsDisplay as _,
                    ReportAsError as _,
                };
                ::loglayer::__private::report(
                    &::loglayer::current(),
                    ::loglayer::Level::#level,
                    #fn_name,
                    (&&&&::loglayer::__private::ErrWrap(__loglayer_e)).__loglayer_err(),
                );
            }
        }
    }
}

/// What `self` in the options means where they are evaluated.
#[derive(Clone, Copy)]
enum SelfAs {
    /// `self`, as written.
    SelfToken,
    /// `__self`: inside an `#[async_trait]` body, which moved `self` there.
    AsyncTraitSelf,
}

impl SelfAs {
    fn of(sig: &Signature) -> Self {
        match sig.receiver() {
            Some(_) => SelfAs::AsyncTraitSelf,
            None => SelfAs::SelfToken,
        }
    }

    fn apply(self, tokens: TokenStream) -> TokenStream {
        match self {
            SelfAs::SelfToken => tokens,
            SelfAs::AsyncTraitSelf => rename_self(tokens),
        }
    }
}

/// Every `self` value (not the `self::` of a path) as `__self`, with the same
/// span, as `#[async_trait]` does to the body.
fn rename_self(tokens: TokenStream) -> TokenStream {
    let mut out = Vec::new();
    let mut iter = tokens.into_iter().peekable();
    while let Some(tree) = iter.next() {
        let tree = match tree {
            TokenTree::Ident(ident) if ident == "self" => {
                let is_path =
                    matches!(iter.peek(), Some(TokenTree::Punct(p)) if p.as_char() == ':');
                if is_path {
                    TokenTree::Ident(ident)
                } else {
                    TokenTree::Ident(Ident::new("__self", ident.span()))
                }
            }
            TokenTree::Group(group) => {
                let mut renamed = Group::new(group.delimiter(), rename_self(group.stream()));
                renamed.set_span(group.span());
                TokenTree::Group(renamed)
            }
            other => other,
        };
        out.push(tree);
    }
    out.into_iter().collect()
}

/// The type an unreachable `return` pins a new async block or closure to.
enum FakeReturn {
    Type(Box<Type>),
    /// Unknown: no `return` is emitted.
    None,
    /// The function returns `()`.
    Unit(Span),
}

impl FakeReturn {
    /// The declared return type.
    fn of(sig: &Signature) -> Self {
        match &sig.output {
            ReturnType::Default => FakeReturn::Unit(sig.ident.span()),
            ReturnType::Type(_, ty) => FakeReturn::Type(ty.clone()),
        }
    }

    /// The output of the future the function returns, when the return type
    /// states it.
    fn of_future(sig: &Signature) -> Self {
        match &sig.output {
            ReturnType::Type(_, ty) => {
                future_output(ty).map_or(FakeReturn::None, |ty| FakeReturn::Type(Box::new(ty)))
            }
            ReturnType::Default => FakeReturn::None,
        }
    }

    /// An unreachable `return` of this type, placed first in a new async
    /// block or closure: it fixes the block's return type before the body is
    /// checked, so `?` converts errors and `return` type-checks as in the
    /// original function. Spanned on the return type, which is where rustc
    /// points for "expected because of return type".
    fn tokens(&self) -> TokenStream {
        let (ty, span) = match self {
            FakeReturn::None => return TokenStream::new(),
            FakeReturn::Unit(span) => (quote!(()), *span),
            FakeReturn::Type(ty) => (erase_impl_trait(ty), ty.span()),
        };
        quote_spanned! {span=>
            if let ::core::option::Option::Some(__loglayer_ret) = ::core::option::Option::None::<#ty> {
                #[allow(unreachable_code)]
                return __loglayer_ret;
            }
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

/// `T` in `impl Future<Output = T>`, `Pin<Box<dyn Future<Output = T> + ..>>`,
/// `BoxFuture<'a, T>` or `LocalBoxFuture<'a, T>`.
fn future_output(ty: &Type) -> Option<Type> {
    let bounds = match ty {
        Type::ImplTrait(ty) => &ty.bounds,
        Type::TraitObject(ty) => &ty.bounds,
        Type::Paren(ty) => return future_output(&ty.elem),
        Type::Group(ty) => return future_output(&ty.elem),
        Type::Path(ty) => {
            let last = ty.path.segments.last()?;
            let PathArguments::AngleBracketed(generics) = &last.arguments else {
                return None;
            };
            let types = generics.args.iter().filter_map(|arg| match arg {
                GenericArgument::Type(ty) => Some(ty),
                _ => None,
            });
            return if last.ident == "BoxFuture" || last.ident == "LocalBoxFuture" {
                types.last().cloned()
            } else {
                // `Pin<Box<..>>`: look inside.
                types.into_iter().find_map(future_output)
            };
        }
        _ => return None,
    };
    bounds.iter().find_map(|bound| {
        let syn::TypeParamBound::Trait(bound) = bound else {
            return None;
        };
        let last = bound.path.segments.last()?;
        let PathArguments::AngleBracketed(generics) = &last.arguments else {
            return None;
        };
        generics.args.iter().find_map(|arg| match arg {
            GenericArgument::AssocType(assoc) if assoc.ident == "Output" => Some(assoc.ty.clone()),
            _ => None,
        })
    })
}

/// A path ending in `Box::pin`, called with one argument.
fn box_pin_call(expr: &Expr) -> Option<&ExprCall> {
    let Expr::Call(call) = expr else {
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
    (is_box_pin && call.args.len() == 1).then_some(call)
}

/// The tail expression of a block, if it has one.
fn tail(block: &Block) -> Option<&Expr> {
    match block.stmts.last()? {
        Stmt::Expr(expr, None) => Some(expr),
        _ => None,
    }
}

/// The body of a function that `#[async_trait]` already rewrote:
/// `BEFORE; Box::pin(async move { .. })`, with a return type that names the
/// `'async_trait` lifetime.
struct AsyncTraitBody<'a> {
    before: &'a [Stmt],
    call: &'a ExprCall,
    future: &'a ExprAsync,
    /// The index of `let __ret: Ret = { BODY };` (or `let _: () = { BODY };`)
    /// in the async block, when it has that shape.
    body: Option<usize>,
}

impl<'a> AsyncTraitBody<'a> {
    fn find(func: &'a ItemFn) -> Option<Self> {
        let ReturnType::Type(_, ty) = &func.sig.output else {
            return None;
        };
        if !names_async_trait_lifetime(ty.to_token_stream()) {
            return None;
        }
        let call = box_pin_call(tail(&func.block)?)?;
        let Expr::Async(future) = &call.args[0] else {
            return None;
        };
        let stmts = &future.block.stmts;
        let body = stmts
            .iter()
            .rposition(|stmt| matches!(stmt, Stmt::Local(local) if local_body(local).is_some()));
        Some(AsyncTraitBody {
            before: &func.block.stmts[..func.block.stmts.len() - 1],
            call,
            future,
            body,
        })
    }

    /// The names the user's body can use: the arguments, as `#[async_trait]`
    /// rebinds and destructures them before the body.
    fn argument_names(&self, sig: &Signature) -> Vec<Ident> {
        let mut names: Vec<Ident> = argument_names(sig)
            .into_iter()
            .filter(|name| !name.to_string().starts_with("__"))
            .collect();
        let decls = &self.future.block.stmts[..self.body.unwrap_or(0)];
        for stmt in decls {
            if let Stmt::Local(local) = stmt {
                let mut bound = Vec::new();
                pattern_names(&local.pat, &mut bound);
                for name in bound {
                    if !name.to_string().starts_with("__") && !names.contains(&name) {
                        names.push(name);
                    }
                }
            }
        }
        names
    }
}

/// `Ret` and `{ BODY }` of `let __ret: Ret = { BODY };` or
/// `let _: () = { BODY };`.
fn local_body(local: &Local) -> Option<(Type, &Block)> {
    let Pat::Type(typed) = &local.pat else {
        return None;
    };
    let named_ret = matches!(&*typed.pat, Pat::Ident(pat) if pat.ident == "__ret");
    let unit = matches!(&*typed.pat, Pat::Wild(_));
    let init = local.init.as_ref()?;
    match &*init.expr {
        Expr::Block(block)
            if (named_ret || unit) && init.diverge.is_none() && block.label.is_none() =>
        {
            Some(((*typed.ty).clone(), &block.block))
        }
        _ => None,
    }
}

/// Whether the tokens mention the `'async_trait` lifetime.
fn names_async_trait_lifetime(tokens: TokenStream) -> bool {
    let mut after_quote = false;
    for tree in tokens {
        match tree {
            TokenTree::Punct(p) => after_quote = p.as_char() == '\'',
            TokenTree::Ident(ident) => {
                if after_quote && ident == "async_trait" {
                    return true;
                }
                after_quote = false;
            }
            TokenTree::Group(group) => {
                if names_async_trait_lifetime(group.stream()) {
                    return true;
                }
                after_quote = false;
            }
            TokenTree::Literal(_) => after_quote = false,
        }
    }
    false
}

/// The future a plain fn returns as its tail expression.
enum FutureTail<'a> {
    /// `async { .. }` or `async move { .. }`.
    Async(&'a ExprAsync),
    /// `Box::pin(async { .. })` (any path ending in `Box::pin`).
    BoxPin {
        call: &'a ExprCall,
        future: &'a ExprAsync,
    },
    /// `EXPR.boxed()` or `EXPR.boxed_local()` (futures' `FutureExt`), in a
    /// function whose return type is not a stream.
    Boxed(&'a ExprMethodCall),
}

impl<'a> FutureTail<'a> {
    fn find(func: &'a ItemFn) -> Option<Self> {
        let ReturnType::Type(_, ty) = &func.sig.output else {
            return None;
        };
        match tail(&func.block)? {
            Expr::Async(future) => Some(FutureTail::Async(future)),
            Expr::MethodCall(call)
                if (call.method == "boxed" || call.method == "boxed_local")
                    && call.args.is_empty()
                    && !ty.to_token_stream().to_string().contains("Stream") =>
            {
                Some(FutureTail::Boxed(call))
            }
            expr => {
                let call = box_pin_call(expr)?;
                match &call.args[0] {
                    Expr::Async(future) => Some(FutureTail::BoxPin { call, future }),
                    _ => None,
                }
            }
        }
    }
}
