//! What is emitted when the attribute is misused: the error, and the user's
//! function as written, so callers still resolve and IDEs keep working.

use proc_macro2::TokenStream;
use quote::quote;
use syn::ItemFn;

use crate::expand;

/// `compile_error!` plus the original item. When the item is a function it
/// also gets the `log!` import the attribute promises, so a misused option
/// does not bury its one error under "cannot find macro `log`" in the body.
pub(crate) fn expand(item: TokenStream, error: &syn::Error) -> TokenStream {
    let error = error.to_compile_error();
    let item = match syn::parse2::<ItemFn>(item.clone()) {
        Ok(func) => {
            let block = &func.block;
            let import = expand::log_import();
            expand::emit(&func, quote!(#import #block))
        }
        Err(_) => item,
    };
    quote!(#error #item)
}
