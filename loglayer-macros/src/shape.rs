//! Which kind of function `#[with_logger]` is looking at, and the parts of it
//! the rewrite needs: the body `#[async_trait]` generated, the future a plain
//! fn returns as its tail, and the type an unreachable `return` pins a new
//! async block or closure to.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::{
    Block, Expr, ExprAsync, ExprCall, ExprMethodCall, GenericArgument, Ident, ItemFn, Local, Pat,
    Path, PathArguments, ReturnType, Signature, Stmt, Type, TypeParamBound,
};

use crate::check::{argument_names, pattern_names};

/// The kinds of function the attribute rewrites differently.
pub(crate) enum Shape<'a> {
    AsyncFn,
    /// Already expanded by `#[async_trait]`.
    AsyncTrait(AsyncTraitBody<'a>),
    /// A plain fn whose tail expression is a future.
    ReturnsFuture(FutureTail<'a>),
    Plain,
}

impl<'a> Shape<'a> {
    pub(crate) fn of(func: &'a ItemFn) -> Self {
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

/// The type an unreachable `return` pins a new async block or closure to.
pub(crate) enum FakeReturn<'a> {
    Type(&'a Type),
    /// Unknown: no `return` is emitted.
    None,
    /// The function returns `()`.
    Unit(Span),
}

impl<'a> FakeReturn<'a> {
    /// The declared return type.
    pub(crate) fn of(sig: &'a Signature) -> Self {
        match &sig.output {
            ReturnType::Default => FakeReturn::Unit(sig.ident.span()),
            ReturnType::Type(_, ty) => FakeReturn::Type(ty),
        }
    }

    /// The output of the future the function returns, when the return type
    /// states it.
    pub(crate) fn of_future(sig: &'a Signature) -> Self {
        match &sig.output {
            ReturnType::Type(_, ty) => future_output(ty).map_or(FakeReturn::None, FakeReturn::Type),
            ReturnType::Default => FakeReturn::None,
        }
    }

    /// An unreachable `return` of this type, placed first in a new async
    /// block or closure: it fixes the block's return type before the body is
    /// checked, so `?` converts errors and `return` type-checks as in the
    /// original function. Spanned on the return type, which is where rustc
    /// points for "expected because of return type".
    pub(crate) fn tokens(&self) -> TokenStream {
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
///
/// Written by hand rather than with syn's `visit-mut` and `clone-impls`
/// features: those two modules are a sixth of syn's build, which every user
/// of loglayer pays before anything else can compile (issue 15). The owned
/// copy comes from re-parsing the type's own tokens, spans included.
fn erase_impl_trait(ty: &Type) -> TokenStream {
    let tokens = ty.to_token_stream();
    match syn::parse2::<Type>(tokens.clone()) {
        Ok(mut ty) => {
            erase_in_type(&mut ty);
            ty.into_token_stream()
        }
        // Cannot happen (the tokens were printed from a `Type`); the type
        // as written still pins everything but an `impl Trait`.
        Err(_) => tokens,
    }
}

/// Every place a type may hold an `impl Trait`: the type itself, and the
/// types nested in it (elements, generic arguments, `Fn(..) -> ..` sugar).
fn erase_in_type(ty: &mut Type) {
    match ty {
        Type::ImplTrait(impl_trait) => {
            *ty = Type::Infer(syn::TypeInfer {
                underscore_token: syn::Token![_](impl_trait.span()),
            });
        }
        Type::Array(ty) => erase_in_type(&mut ty.elem),
        Type::Group(ty) => erase_in_type(&mut ty.elem),
        Type::Paren(ty) => erase_in_type(&mut ty.elem),
        Type::Ptr(ty) => erase_in_type(&mut ty.elem),
        Type::Reference(ty) => erase_in_type(&mut ty.elem),
        Type::Slice(ty) => erase_in_type(&mut ty.elem),
        Type::Tuple(ty) => ty.elems.iter_mut().for_each(erase_in_type),
        Type::Path(ty) => {
            if let Some(qself) = &mut ty.qself {
                erase_in_type(&mut qself.ty);
            }
            erase_in_path(&mut ty.path);
        }
        Type::TraitObject(ty) => {
            for bound in &mut ty.bounds {
                if let TypeParamBound::Trait(bound) = bound {
                    erase_in_path(&mut bound.path);
                }
            }
        }
        Type::BareFn(ty) => {
            for input in &mut ty.inputs {
                erase_in_type(&mut input.ty);
            }
            if let ReturnType::Type(_, ty) = &mut ty.output {
                erase_in_type(ty);
            }
        }
        _ => {}
    }
}

fn erase_in_path(path: &mut Path) {
    for segment in &mut path.segments {
        match &mut segment.arguments {
            PathArguments::AngleBracketed(generics) => {
                for arg in &mut generics.args {
                    match arg {
                        GenericArgument::Type(ty) => erase_in_type(ty),
                        GenericArgument::AssocType(assoc) => erase_in_type(&mut assoc.ty),
                        _ => {}
                    }
                }
            }
            PathArguments::Parenthesized(sugar) => {
                sugar.inputs.iter_mut().for_each(erase_in_type);
                if let ReturnType::Type(_, ty) = &mut sugar.output {
                    erase_in_type(ty);
                }
            }
            PathArguments::None => {}
        }
    }
}

/// `T` in `impl Future<Output = T>`, `Pin<Box<dyn Future<Output = T> + ..>>`,
/// `BoxFuture<'a, T>` or `LocalBoxFuture<'a, T>`.
fn future_output(ty: &Type) -> Option<&Type> {
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
                types.last()
            } else {
                // `Pin<Box<..>>`: look inside.
                types.into_iter().find_map(future_output)
            };
        }
        _ => return None,
    };
    bounds.iter().find_map(|bound| {
        let TypeParamBound::Trait(bound) = bound else {
            return None;
        };
        let last = bound.path.segments.last()?;
        let PathArguments::AngleBracketed(generics) = &last.arguments else {
            return None;
        };
        generics.args.iter().find_map(|arg| match arg {
            GenericArgument::AssocType(assoc) if assoc.ident == "Output" => Some(&assoc.ty),
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
pub(crate) struct AsyncTraitBody<'a> {
    pub(crate) before: &'a [Stmt],
    pub(crate) call: &'a ExprCall,
    pub(crate) future: &'a ExprAsync,
    /// The index of `let __ret: Ret = { BODY };` (or `let _: () = { BODY };`)
    /// in the async block, when it has that shape.
    pub(crate) body: Option<usize>,
}

impl<'a> AsyncTraitBody<'a> {
    pub(crate) fn find(func: &'a ItemFn) -> Option<Self> {
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
    pub(crate) fn argument_names(&self, sig: &Signature) -> Vec<Ident> {
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
pub(crate) fn local_body(local: &Local) -> Option<(&Type, &Block)> {
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
            Some((&typed.ty, &block.block))
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
pub(crate) enum FutureTail<'a> {
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
    pub(crate) fn find(func: &'a ItemFn) -> Option<Self> {
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
