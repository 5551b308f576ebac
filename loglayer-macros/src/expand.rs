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
//! group = "NAME" (with any of these)    in_group(<the above>, "NAME")
//! ```
//!
//! `pending` snapshots its parent (the current logger, or `EXPR`) where it
//! runs; `deferred` takes as parent the logger current when the future it is
//! given to is first polled. Either way the child is built only if the body
//! logs or asks for `current()`, so a call that logs nothing allocates nothing.
//! An explicit `logger = EXPR` is always taken where it is evaluated.
//! `in_group` makes the scope's logger a child that also tags its entries
//! with the group (a `ready` logger becomes a pending child of itself), so
//! everything logged under the function is routed by that group.
//!
//! **`async fn`** (an `async fn` stays an `async fn`; the user's block runs in
//! an `async move` block whose return type is pinned by an unreachable
//! `return`, as tracing-attributes does, so `?`, `return` and type errors
//! behave as in the original):
//!
//! ```text
//! async fn ship(order: &Order) -> Result<(), ShipError> {
//!     let __loglayer_logger = NOW;
//!     ::loglayer::__private::scoped(__loglayer_logger, FUTURE).await
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
//!     let __loglayer_guard = ::loglayer::__private::enter_scope(NOW);
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
//!     ::loglayer::__private::scoped(__loglayer_logger, async move { FAKE_RETURN BODY })
//!     // or Box::pin(scoped(.., async { .. })), or scoped(.., EXPR).boxed()
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
//!         ::loglayer::__private::scoped(__loglayer_logger, FUTURE).await
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
use syn::{AttrStyle, Block, ExprAsync, ExprMethodCall, ItemFn, LitStr, Local, Signature, Stmt};

use crate::args::{Args, ErrOption, Value};
use crate::check::check;
use crate::shape::{local_body, AsyncTraitBody, FakeReturn, FutureTail, Shape};

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
        self.in_group(self.logger_now_ungrouped(self_as))
    }

    fn logger_now_ungrouped(&self, self_as: SelfAs) -> TokenStream {
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
        self.in_group(quote!(::loglayer::__private::deferred(#fields)))
    }

    /// `logger`, or with `group = "NAME"` a child of it in that group.
    fn in_group(&self, logger: TokenStream) -> TokenStream {
        match &self.args.group {
            None => logger,
            Some(name) => quote!(::loglayer::__private::in_group(#logger, #name)),
        }
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
    fn body_future(&self, ret: &FakeReturn<'_>, block: TokenStream) -> TokenStream {
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
            ::loglayer::__private::scoped(__loglayer_logger, #future).await
        }
    }

    fn plain_fn(&self, sig: &Signature, block: &Block) -> TokenStream {
        let logger = self.logger_now(SelfAs::SelfToken);
        let import = log_import();
        let block = nested(block);
        match self.args.err.as_ref() {
            None => quote! {
                let __loglayer_guard = ::loglayer::__private::enter_scope(#logger);
                #import
                #block
            },
            Some(err) => {
                let fake_return = FakeReturn::of(sig).tokens();
                let report = self.report(err);
                quote! {
                    let __loglayer_guard = ::loglayer::__private::enter_scope(#logger);
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
            quote!(::loglayer::__private::scoped(__loglayer_logger, #future))
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
                let future = self.body_future(&FakeReturn::Type(ret), nested(user_block));
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
                        ::loglayer::__private::scoped(__loglayer_logger, #future).await
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
                    ::loglayer::__private::scoped(__loglayer_logger, #future).await
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
